import type { NextFunction, Request, Response } from 'express';
import { nestingError, responseTooLarge, type QueryLimits } from '../graphql/limits.ts';

/** The shape GraphQL clients already parse: `{ errors: [{ message, extensions: { code } }] }`. */
export function sendGraphQLError(
  res: Response,
  status: number,
  message: string,
  code: string,
  extra: Record<string, unknown> = {},
) {
  res.status(status).json({ errors: [{ message, extensions: { code, ...extra } }] });
}

function occurrences(text: string, word: string): number {
  let n = 0;
  for (let i = text.indexOf(word); i !== -1; i = text.indexOf(word, i + word.length)) n++;
  return n;
}

/** Runs before Apollo: rejects texts nested so deeply that the recursive parser could overflow the stack. */
export function rejectDeepNesting(limits: QueryLimits) {
  return (req: Request, res: Response, next: NextFunction) => {
    const body: unknown = req.body;
    const query = body && typeof body === 'object' && 'query' in body ? body.query : req.query?.query;
    if (typeof query === 'string') {
      const error = nestingError(query, limits);
      if (error) return sendGraphQLError(res, 400, error.message, 'QUERY_TOO_DEEP', { limit: limits.maxNesting });
      // Fast path for aliased introspection floods: refused before parsing (the validation rule is the real check).
      if (occurrences(query, '__schema') > 1 + occurrences(query, '#')) {
        return sendGraphQLError(res, 400, 'An operation may ask for __schema once', 'QUERY_TOO_COMPLEX');
      }
    }
    next();
  };
}

/**
 * Replaces a GraphQL response body over `maxResponseBytes` with RESPONSE_TOO_LARGE, so one request cannot make the
 * hub ship (and the client buffer) tens of megabytes. Apollo's Express integration answers with one `res.send`.
 */
export function capResponseBytes(limits: Pick<QueryLimits, 'maxResponseBytes'>) {
  return (req: Request, res: Response, next: NextFunction) => {
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      const bytes = typeof body === 'string' ? Buffer.byteLength(body) : Buffer.isBuffer(body) ? body.length : 0;
      if (bytes <= limits.maxResponseBytes) return send(body);
      req.log?.warn({ bytes, limit: limits.maxResponseBytes }, 'GraphQL response over the size limit replaced');
      res.status(200).type('application/json');
      return send(JSON.stringify(responseTooLarge(bytes, limits.maxResponseBytes)));
    };
    next();
  };
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  length?: number;
  limit?: number;
}

/** Turns body-parser failures (malformed JSON, too large) into GraphQL-shaped errors with a code. */
export function bodyErrorHandler(err: BodyParserError, req: Request, res: Response, next: NextFunction) {
  if (res.headersSent) return next(err);
  if (err.type === 'entity.too.large') {
    return sendGraphQLError(
      res,
      413,
      `Request body${err.length ? ` of ${err.length} bytes` : ''} exceeds the limit of ${err.limit} bytes`,
      'PAYLOAD_TOO_LARGE',
      { limit: err.limit },
    );
  }
  if (err.type === 'entity.parse.failed') {
    return sendGraphQLError(res, 400, `Malformed JSON body: ${err.message}`, 'BAD_REQUEST');
  }
  if (err.type && err.status && err.status < 500) {
    return sendGraphQLError(res, err.status, `Bad request body: ${err.message}`, 'BAD_REQUEST');
  }
  req.log?.error({ err }, 'unhandled error');
  return sendGraphQLError(res, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
}
