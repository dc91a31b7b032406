import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import {
  DATABASE_RETRY_AFTER_SECONDS,
  DATABASE_UNAVAILABLE,
  DATABASE_UNAVAILABLE_MESSAGE,
  isDatabaseUnavailable,
} from '../http/database-unavailable.ts';
import type { Logger } from '../logger.ts';
import { SERVICE_ERROR_CODES, ServiceError } from '../services/errors.ts';

/**
 * Codes a client may see in `extensions.code`. Anything without one of these is an unexpected failure and is
 * masked as INTERNAL_SERVER_ERROR.
 */
export const EXPECTED_ERROR_CODES = [
  // Services' expected failures (ServiceError).
  ...SERVICE_ERROR_CODES,
  // Produced by Apollo / graphql-js / our HTTP layer for malformed requests.
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'QUERY_TOO_DEEP',
  'QUERY_TOO_COMPLEX',
  'INTROSPECTION_DISABLED',
  'RESPONSE_TOO_LARGE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  // The database could not be reached (http/database-unavailable.ts): HTTP 503, try again.
  DATABASE_UNAVAILABLE,
] as const;

const EXPECTED = new Set<string>(EXPECTED_ERROR_CODES);

/**
 * The one place a ServiceError becomes a GraphQL error: its code in `extensions.code`, the input field at fault
 * in `extensions.field`, and `extensions.retryAfterSeconds` for RATE_LIMITED.
 */
function fromServiceError(formatted: GraphQLFormattedError, err: ServiceError): GraphQLFormattedError {
  return {
    message: err.message,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: {
      code: err.code,
      ...(err.field !== undefined ? { field: err.field } : {}),
      ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
    },
  };
}

/** The ServiceError behind a GraphQL error (graphql-js wraps what a resolver throws), if any. */
function serviceErrorIn(error: unknown): ServiceError | undefined {
  const original = unwrapResolverError(error);
  if (original instanceof ServiceError) return original;
  const wrapped = error instanceof GraphQLError ? error.originalError : undefined;
  return wrapped instanceof ServiceError ? wrapped : undefined;
}

/**
 * The input field named by a variable that graphql-js could not coerce (e.g. a value that is not one of an
 * enum's), relative to the `input` variable as services name fields: `Variable "$input" got invalid value
 * "huge" at "input.config.preset"; …` → `config.preset`. Clients then show it where they show the services' errors.
 */
function coercedVariableField(formatted: GraphQLFormattedError): string | undefined {
  if (formatted.extensions?.code !== 'BAD_USER_INPUT' || formatted.extensions['field'] !== undefined) return undefined;
  const m = /^Variable "\$(\w+)" got invalid value .* at "([^"]+)"/.exec(formatted.message);
  if (!m) return undefined;
  const [, variable, path] = m as unknown as [string, string, string];
  return path.startsWith(`${variable}.`) ? path.slice(variable.length + 1) : path;
}

/**
 * Expected failures (a ServiceError, or a known `extensions.code`) go to the client as they are; anything else
 * is a bug: logged with its stack, and masked so no internals leak. Used for HTTP (Apollo) and WebSocket results.
 */
export function createFormatError(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const serviceError = serviceErrorIn(error);
    if (serviceError) return fromServiceError(formatted, serviceError);
    const original = unwrapResolverError(error);
    // Apollo re-codes every validation error as GRAPHQL_VALIDATION_FAILED; our limit rules' own codes
    // (QUERY_TOO_DEEP, QUERY_TOO_COMPLEX) say more, so put them back.
    const ruleCode = (error as { originalError?: { extensions?: { code?: unknown } } } | null)?.originalError
      ?.extensions?.code;
    if (
      formatted.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' &&
      typeof ruleCode === 'string' &&
      EXPECTED.has(ruleCode)
    ) {
      formatted = { ...formatted, extensions: { ...formatted.extensions, code: ruleCode } };
    }
    const field = coercedVariableField(formatted);
    if (field) formatted = { ...formatted, extensions: { ...formatted.extensions, field } };
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && EXPECTED.has(code)) {
      const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    if (isDatabaseUnavailable(original)) {
      log.warn({ err: original, path: formatted.path }, 'GraphQL operation failed: the database is unreachable');
      return {
        message: DATABASE_UNAVAILABLE_MESSAGE,
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: DATABASE_UNAVAILABLE, retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS },
      };
    }
    const dataException = postgresDataException(original);
    if (dataException) {
      // A value the request carried that Postgres could not read (a malformed id, a number out of range): the
      // client's mistake, but one a service should have caught with a named field, so it is logged for fixing.
      log.warn({ err: original, path: formatted.path }, 'Postgres refused a value from a GraphQL request');
      return {
        message: `A value in the request is malformed or out of range (${dataException})`,
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: 'BAD_USER_INPUT' },
      };
    }
    log.error({ err: original, path: formatted.path }, 'unexpected error in GraphQL operation');
    return {
      message: 'Internal server error',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

/**
 * Postgres data exceptions that only a request's values can cause (SQLSTATE class 22: invalid text representation
 * such as a malformed uuid, numeric or datetime out of range, bad UTF-8); drizzle wraps the driver's error as
 * `cause`. Returns a short description, or null for anything else.
 */
const DATA_EXCEPTIONS: Record<string, string> = {
  '22P02': 'not a valid value of its type',
  '22003': 'number out of range',
  '22008': 'date/time out of range',
  '22007': 'not a valid date/time',
  '22021': 'invalid characters',
  '22P05': 'invalid characters',
};

function postgresDataException(error: unknown): string | null {
  for (
    let e = error, depth = 0;
    e && typeof e === 'object' && depth < 4;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code in DATA_EXCEPTIONS) return DATA_EXCEPTIONS[code]!;
  }
  return null;
}
