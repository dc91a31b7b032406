import { InvalidArgumentError } from './errors.ts';

// Signed URLs are bearer capabilities: keep them short-lived. Clients ask for a fresh URL per part.
export const DEFAULT_URL_EXPIRY_SEC = 300;
export const MAX_URL_EXPIRY_SEC = 900;

export function urlExpirySec(requested: number | undefined): number {
  const value = requested ?? DEFAULT_URL_EXPIRY_SEC;
  if (!Number.isInteger(value) || value < 1 || value > MAX_URL_EXPIRY_SEC) {
    throw new InvalidArgumentError(
      `expiresInSec must be an integer from 1 to ${MAX_URL_EXPIRY_SEC} seconds (got ${String(requested)})`,
    );
  }
  return value;
}
