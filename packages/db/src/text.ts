/**
 * What Postgres refuses in text: the NUL character (`text` and `jsonb` cannot hold U+0000; a query carrying one fails
 * with 22021 / 22P05) and lone UTF-16 surrogates (not Unicode: they have no UTF-8 form). Third-party text (webhook
 * replies, captions, trainer logs, file names) is sanitised with `sanitizeText` before it is stored; user input is
 * refused instead (see apps/server/src/graphql/text-input.ts), so a person learns which field was wrong.
 */

// A lone high surrogate (not followed by a low one) or a lone low surrogate (not preceded by a high one).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** Why Postgres would refuse `text`, or null when it is storable. */
export function unstorableTextProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode (it contains a lone UTF-16 surrogate)';
  return null;
}

/** `text` with NUL characters removed and lone surrogates replaced by U+FFFD, so Postgres stores it. */
export function sanitizeText(text: string): string {
  if (unstorableTextProblem(text) === null) return text;
  return text.replaceAll('\u0000', '').replace(LONE_SURROGATES, '\uFFFD');
}

/** sanitizeText applied to every string in a JSON-like value (for `jsonb` columns), keys included. */
export function sanitizeJson<T>(value: T): T {
  if (typeof value === 'string') return sanitizeText(value) as T;
  if (Array.isArray(value)) return (value as unknown[]).map((v) => sanitizeJson(v)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [sanitizeText(k), sanitizeJson(v)]),
    ) as T;
  }
  return value;
}
