import { MetricsInputError } from './errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function assertUuid(value: string, field: string): void {
  if (typeof value !== 'string' || !UUID.test(value)) throw new MetricsInputError(field, `"${value}" is not a UUID`);
}
