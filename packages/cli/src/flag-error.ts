import { CliError } from './errors.ts';

/**
 * A hub error about an input field (BAD_USER_INPUT names it as `[field]`, graphql.ts) re-worded to name the flag the
 * user typed it with: `--count: …` for `count`, `<modelVersion>: …` for a positional. Other errors pass through.
 */
export function flagError(err: unknown, flagOf: Record<string, string>): unknown {
  if (!(err instanceof CliError) || err.code !== 'BAD_USER_INPUT') return err;
  const field = /\[([\w.]+)\]/.exec(err.message)?.[1]?.split('.')[0];
  const flag = field ? flagOf[field] : undefined;
  if (!flag) return err;
  return new CliError(`${flag.startsWith('<') ? flag : `--${flag}`}: ${err.message}`, err.code);
}
