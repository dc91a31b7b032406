import { z } from 'zod';
import { badInput, type ServiceError } from './errors.ts';

/** A list's `first`: how many rows, 1 to `max`, `fallback` when not given. */
export function pageSize(max: number, fallback: number) {
  const message = `must be a whole number from 1 to ${max}`;
  return z.number().int(message).min(1, message).max(max, message).default(fallback);
}

/**
 * The input field a zod issue points at, dotted (`model.resolution`), under `prefix` when the parsed value
 * was one field of a larger input (`config` → `config.model.resolution`); `fallback` when it names none.
 */
export function issueField(issue: z.core.$ZodIssue | undefined, opts: { prefix?: string; fallback?: string } = {}) {
  const path = [...(opts.prefix ? [opts.prefix] : []), ...(issue?.path.map(String) ?? [])];
  return path.join('.') || opts.fallback || 'input';
}

/** A failed parse as BAD_USER_INPUT naming the field of its first issue: `field: message`. */
export function invalidInput(error: z.ZodError, opts: { prefix?: string; fallback?: string } = {}): ServiceError {
  const issue = error.issues[0];
  const field = issueField(issue, opts);
  return badInput(field, `${field}: ${issue?.message ?? 'invalid value'}`);
}

/** Parses input with zod; the first problem becomes BAD_USER_INPUT naming the field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  opts: { prefix?: string; fallback?: string } = {},
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw invalidInput(result.error, opts);
}

/** Drops GraphQL's explicit nulls (at any depth) so zod defaults and optional fields apply. */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
}
