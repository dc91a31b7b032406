import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

// The cryptography of webhooks: signing deliveries, deriving their ids, and keeping signing secrets encrypted at
// rest with a key derived from the hub secret.

/** `t=<ts>,v1=<hex>` over `${ts}.${body}`; what receivers recompute to verify a delivery. */
export function signPayload(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** A deterministic UUID for an idempotency key, so every hub derives the same delivery id for one event. */
export function deliveryIdFor(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The AES-256 key webhook signing secrets are encrypted with, derived from the hub secret. */
export function secretsKey(hubSecret: string): Buffer {
  return createHash('sha256').update(`dapple-webhook-secrets:${hubSecret}`).digest();
}

export function encrypt(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1:${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${ct.toString('base64url')}`;
}

export function decrypt(key: Buffer, stored: string): string {
  const [v, iv, tag, ct] = stored.split(':');
  if (v !== 'v1' || !iv || !tag || !ct) throw new Error('webhook secret is not in the v1 encrypted format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(
      'cannot decrypt the webhook secret: the hub secret (DAPPLE_SECRET) changed since the webhook was created; recreate the webhook',
    );
  }
}
