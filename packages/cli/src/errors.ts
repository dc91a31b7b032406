/** A failure to report to the user as one line (`error: …`) with exit code 1; `code` is the GraphQL error code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage mistake: the message plus a hint to run `--help`. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 'USAGE');
    this.name = 'UsageError';
  }
}
