import type { Logger } from './logger.ts';

/**
 * The last error boundary of a hub process: a promise rejected with nobody listening (a background path that
 * missed its own catch) is logged with what it was and the hub keeps serving — Node's default would exit and take
 * every user's work down with it. An uncaught exception leaves the process in an unknown state, so it is logged
 * and the process exits non-zero: `npm start`'s supervisor restarts it with backoff (trainers keep running and are
 * re-adopted). Install once, in the process's entry point; libraries and tests do not call this.
 */
export function installProcessGuards(logger: Logger, opts: { exit?: (code: number) => void } = {}): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  // The promise itself says nothing when logged ("[object Promise]"); the reason's stack is what locates the bug.
  const onRejection = (reason: unknown) => {
    logger.error(
      { err: reason instanceof Error ? reason : new Error(String(reason)) },
      'unhandled promise rejection (the hub keeps running; this is a bug to fix)',
    );
  };
  const onException = (err: Error, origin: string) => {
    logger.fatal({ err, origin }, 'uncaught exception: the hub exits and is restarted');
    exit(1);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
