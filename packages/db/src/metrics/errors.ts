/** Bad input to a metrics function. `field` names what was wrong (e.g. `points[3].step`). */
export class MetricsInputError extends Error {
  readonly code = 'BAD_USER_INPUT';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'MetricsInputError';
  }
}
