import { randomBytes } from 'node:crypto';
import { readdir, utimes } from 'node:fs/promises';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '../src/index.ts';
import { startDiskStore, type DiskStoreFixture } from './fixtures.ts';

// What the contract cannot say for every backend: the hub-served URLs refuse tampering and expiry,
// speak CORS to browsers, and answer HEAD and ranges like S3 does.
describe('DiskStore signed URLs over HTTP', () => {
  const secret = randomBytes(32).toString('hex');
  let fixture: DiskStoreFixture;
  let pastFixture: DiskStoreFixture;

  beforeAll(async () => {
    fixture = await startDiskStore({ signingSecret: secret });
    // Same root and secret, clock two hours back: its URLs are already expired for `fixture`'s handler.
    pastFixture = await startDiskStore({
      root: fixture.store.layout.root,
      signingSecret: secret,
      now: () => Date.now() - 2 * 3600_000,
    });
  });

  afterAll(async () => {
    await pastFixture.stop();
    await fixture.stop();
  });

  async function errorOf(response: Response): Promise<{ error: string; message: string }> {
    expect(response.headers.get('content-type')).toContain('application/json');
    return (await response.json()) as { error: string; message: string };
  }

  const onFixture = (url: string) => url.replace(pastFixture.baseUrl, fixture.baseUrl);

  it('refuses an expired URL with 403 SIGNATURE_EXPIRED', async () => {
    await fixture.store.put('e/a', Buffer.from('x'), { size: 1 });
    const old = await pastFixture.store.presignGet('e/a', { expiresInSec: 60 });
    const response = await fetch(onFixture(old.url));
    expect(response.status).toBe(403);
    const body = await errorOf(response);
    expect(body.error).toBe('SIGNATURE_EXPIRED');
    expect(body.message).toContain('expired');
  });

  it('refuses tampered URLs with 403 SIGNATURE_INVALID', async () => {
    await fixture.store.put('e/b', Buffer.from('secret'), { size: 6 });
    await fixture.store.put('e/c', Buffer.from('other'), { size: 5 });
    const { url } = await fixture.store.presignGet('e/b', { expiresInSec: 60 });
    const parsed = new URL(url);
    const tampered = [
      url.replace('/objects/e/b', '/objects/e/c'),
      url.replace(/X-Dapple-Expires=\d+/, `X-Dapple-Expires=${Math.floor(Date.now() / 1000) + 99999}`),
      url.replace(/X-Dapple-Signature=([0-9a-f])/, (_, c: string) => `X-Dapple-Signature=${c === '0' ? '1' : '0'}`),
      url.replace(/&?X-Dapple-Signature=[0-9a-f]+/, ''),
      `${parsed.origin}${parsed.pathname}`,
    ];
    for (const candidate of tampered) {
      const response = await fetch(candidate);
      expect(response.status, candidate).toBe(403);
      expect((await errorOf(response)).error).toBe('SIGNATURE_INVALID');
    }
    // a URL signed by another secret
    const stranger = await startDiskStore({ root: fixture.store.layout.root });
    try {
      const foreign = await stranger.store.presignGet('e/b', { expiresInSec: 60 });
      expect((await fetch(foreign.url.replace(stranger.baseUrl, fixture.baseUrl))).status).toBe(403);
    } finally {
      await stranger.stop();
    }
  });

  it('a GET URL cannot PUT, a PUT URL cannot GET, and a part URL cannot write the object', async () => {
    await fixture.store.put('m/a', Buffer.from('keep'), { size: 4 });
    const get = await fixture.store.presignGet('m/a', { expiresInSec: 60 });
    expect((await fetch(get.url, { method: 'PUT', body: 'evil' })).status).toBe(403);
    const put = await fixture.store.presignPut('m/a', { expiresInSec: 60 });
    expect((await fetch(put.url)).status).toBe(403);
    const uploadId = await fixture.store.createMultipartUpload('m/a');
    const part = await fixture.store.presignPart('m/a', uploadId, 1, { expiresInSec: 60 });
    const asObject = new URL(part.url);
    asObject.searchParams.delete('X-Dapple-Upload-Id');
    asObject.searchParams.delete('X-Dapple-Part-Number');
    expect((await fetch(asObject, { method: 'PUT', body: 'evil' })).status).toBe(403);
    expect(
      (await fetch(part.url.replace('X-Dapple-Part-Number=1', 'X-Dapple-Part-Number=2'), { method: 'PUT', body: 'x' }))
        .status,
    ).toBe(403);
    expect((await fixture.store.stat('m/a'))!.size).toBe(4);
  });

  it('refuses a wrong Content-Length or content type before storing anything', async () => {
    const sized = await fixture.store.presignPut('w/a', { expiresInSec: 60, size: 5, contentType: 'image/png' });
    const tooLong = await fetch(sized.url, { method: 'PUT', headers: sized.headers, body: '123456' });
    expect(tooLong.status).toBe(400);
    expect(await errorOf(tooLong)).toMatchObject({ error: 'SIZE_MISMATCH' });
    const wrongType = await fetch(sized.url, {
      method: 'PUT',
      headers: { 'Content-Type': 'text/html' },
      body: '12345',
    });
    expect(wrongType.status).toBe(403);
    expect(await fixture.store.stat('w/a')).toBeNull();
    const ok = await fetch(sized.url, { method: 'PUT', headers: sized.headers, body: '12345' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('"827ccb0eea8a706c4c34a16891f84e7b"');
  });

  it('answers HEAD, ranges, 416 and 404 like S3', async () => {
    await fixture.store.put('h/a', Buffer.from('0123456789'), { size: 10, contentType: 'text/plain' });
    const { url } = await fixture.store.presignGet('h/a', { expiresInSec: 60 });
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('10');
    expect(head.headers.get('content-type')).toBe('text/plain');
    expect(head.headers.get('accept-ranges')).toBe('bytes');
    const suffix = await fetch(url, { headers: { Range: 'bytes=-3' } });
    expect(suffix.status).toBe(206);
    expect(suffix.headers.get('content-range')).toBe('bytes 7-9/10');
    expect(await suffix.text()).toBe('789');
    expect((await fetch(url, { headers: { Range: 'bytes=10-' } })).status).toBe(416);
    const missing = await fixture.store.presignGet('h/missing', { expiresInSec: 60 });
    const notFound = await fetch(missing.url);
    expect(notFound.status).toBe(404);
    expect((await errorOf(notFound)).error).toBe('OBJECT_NOT_FOUND');
  });

  it('answers CORS preflights and exposes ETag to browsers', async () => {
    const put = await fixture.store.presignPut('c/a', { expiresInSec: 60 });
    const preflight = await fetch(put.url, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://app.example',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    const response = await fetch(put.url, { method: 'PUT', body: 'x', headers: { Origin: 'http://app.example' } });
    expect(response.headers.get('access-control-expose-headers')).toContain('ETag');
  });

  it('an upload cut off mid-body stores nothing and leaves no temp file', async () => {
    const put = await fixture.store.presignPut('cut/a', { expiresInSec: 60, size: 1_000_000 });
    const req = request(put.url, { method: 'PUT', headers: { 'Content-Length': '1000000' } });
    req.on('error', () => {});
    req.write(randomBytes(300_000));
    await new Promise((resolve) => setTimeout(resolve, 100));
    req.destroy();
    // The server notices the closed socket asynchronously: wait (bounded) until its temp file is gone.
    let leftovers: string[] = ['?'];
    for (let i = 0; i < 100 && leftovers.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      leftovers = await readdir(fixture.store.layout.tmpDir);
    }
    expect(leftovers).toEqual([]);
    expect(await fixture.store.stat('cut/a')).toBeNull();
  });

  it('removeStale drops abandoned uploads, keeps fresh ones', async () => {
    const old = await fixture.store.createMultipartUpload('s/old');
    const fresh = await fixture.store.createMultipartUpload('s/fresh');
    const longAgo = new Date(Date.now() - 8 * 24 * 3600_000);
    await utimes(fixture.store.layout.uploadDir(old), longAgo, longAgo);
    const removed = await fixture.store.removeStale();
    expect(removed.uploads).toBe(1);
    await expect(fixture.store.listParts('s/old', old)).rejects.toThrow(/does not exist/);
    expect(await fixture.store.listParts('s/fresh', fresh)).toEqual([]);
  });

  it('refuses part uploads for a finished upload and malformed keys in the path', async () => {
    const uploadId = await fixture.store.createMultipartUpload('p/a');
    const part = await fixture.store.presignPart('p/a', uploadId, 1, { expiresInSec: 60 });
    const body = randomBytes(MIN_PART_SIZE);
    const first = await fetch(part.url, { method: 'PUT', body });
    await fixture.store.completeMultipartUpload('p/a', uploadId, [{ partNumber: 1, etag: first.headers.get('etag')! }]);
    const late = await fetch(part.url, { method: 'PUT', body: 'late' });
    expect(late.status).toBe(404);
    expect((await errorOf(late)).error).toBe('UPLOAD_NOT_FOUND');
    expect((await fixture.store.stat('p/a'))!.size).toBe(MIN_PART_SIZE);
    const bad = await fetch(`${fixture.baseUrl}/objects/a%2F..%2F..%2Fetc%2Fpasswd`); // fetch would resolve a plain '..'
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).error).toBe('INVALID_KEY');
  });
});
