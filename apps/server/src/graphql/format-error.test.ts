import { GraphQLError, parse, type GraphQLFormattedError } from 'graphql';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { badInput, ServiceError } from '../services/errors.ts';
import { createFormatError } from './format-error.ts';

const formatError = createFormatError(pino({ level: 'silent' }));
const node = parse('{ me { name } }').definitions[0]!;

/** What graphql-js makes of an error a resolver throws: a located GraphQLError wrapping it. */
function thrownByResolver(err: Error): GraphQLError {
  return new GraphQLError(err.message, { nodes: [node], path: ['me'], originalError: err });
}

const format = (err: GraphQLError): GraphQLFormattedError => formatError(err.toJSON(), err);

describe('formatError', () => {
  it('turns a ServiceError into extensions.code and extensions.field', () => {
    expect(format(thrownByResolver(badInput('email', 'email: must be a valid email address')))).toEqual({
      message: 'email: must be a valid email address',
      locations: [{ line: 1, column: 1 }],
      path: ['me'],
      extensions: { code: 'BAD_USER_INPUT', field: 'email' },
    });
  });

  it('keeps retryAfterSeconds of a RATE_LIMITED refusal', () => {
    const err = new ServiceError('RATE_LIMITED', 'slow down', { retryAfterSeconds: 10 });
    expect(format(thrownByResolver(err)).extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 10 });
  });

  it('masks anything else as INTERNAL_SERVER_ERROR', () => {
    expect(format(thrownByResolver(new Error('connection refused at 10.0.0.3')))).toEqual({
      message: 'Internal server error',
      path: ['me'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  });
});
