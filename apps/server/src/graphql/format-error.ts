import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { EXPECTED_ERROR_CODES } from '../services/errors.ts';
import type { Logger } from '../logger.ts';

const EXPECTED = new Set<string>(EXPECTED_ERROR_CODES);

/**
 * Expected failures (a known `extensions.code`) go to the client as they are; anything else is a bug:
 * logged with its stack, and masked so no internals leak.
 */
export function createFormatError(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
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
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && EXPECTED.has(code)) {
      const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    log.error({ err: original, path: formatted.path }, 'unexpected error in GraphQL operation');
    return {
      message: 'Internal server error',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
