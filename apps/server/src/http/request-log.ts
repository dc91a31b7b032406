import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger.ts';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
  }
}

const INCOMING_ID = /^[\w.:-]{1,64}$/;

/**
 * Gives every request an id (kept from `x-request-id` when sane), a child logger, and one log line when
 * done — at debug instead of info for requests `quiet` picks (hot routes hit many times a second, e.g.
 * trainers' metric batches from every run every few seconds: an info line each is noise, and CPU).
 */
export function requestLog(logger: Logger, opts: { quiet?: (req: Request) => boolean } = {}) {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : randomUUID();
    req.log = logger.child({ reqId: req.id });
    res.setHeader('x-request-id', req.id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = {
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
      };
      // Failures stay at info: a trainer whose batches are refused must show up in the default log.
      if (res.statusCode < 400 && opts.quiet?.(req)) req.log.debug(line, 'request');
      else req.log.info(line, 'request');
    });
    next();
  };
}
