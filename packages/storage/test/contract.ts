import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  InvalidKeyError,
  InvalidPartError,
  InvalidRangeError,
  MIN_PART_SIZE,
  ObjectNotFoundError,
  SizeMismatchError,
  UploadNotFoundError,
  type ObjectStore,
  type SignedRequest,
} from '../src/index.ts';
import { collect, generatedBody, md5OfStream, readAll, uniquePrefix } from './helpers.ts';

/** What a backend under test can do; cases needing more are skipped with the reason in their title. */
export interface ContractCapabilities {
  /** Refuses a presigned request whose signature does not cover it (a wrong signed size). */
  verifiesSignatures: boolean | string;
  /** ListParts, AbortMultipartUpload, etag/size checks on complete, "no such upload" after complete/abort. */
  fullMultipart: boolean | string;
  /** Lists keys in ascending byte order, as S3 specifies. */
  listsInKeyOrder: boolean | string;
  /** Serves `Range: bytes=0-0` as one byte. */
  rangeEndingAtZero: boolean | string;
}

export interface ContractSubject {
  store: ObjectStore;
  capabilities: ContractCapabilities;
  teardown(): Promise<void>;
}

const MiB = 1024 * 1024;

async function send(request: SignedRequest, body?: Buffer): Promise<Response> {
  return fetch(request.url, {
    method: request.method,
    headers: request.headers,
    ...(body ? { body: new Uint8Array(body) } : {}),
  });
}

/** Runs every ObjectStore case against one backend. `setup` runs once per suite. */
export function defineObjectStoreContract(
  name: string,
  setup: () => Promise<ContractSubject | { skip: string }>,
): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let subject: ContractSubject | undefined;
    let skipReason: string | undefined;
    let store: ObjectStore;
    let prefix: string;

    beforeAll(async () => {
      const result = await setup();
      if ('skip' in result) {
        skipReason = result.skip;
        return;
      }
      subject = result;
      store = result.store;
    }, 60_000);

    afterAll(async () => {
      await subject?.teardown();
    }, 60_000);

    // Each case works under its own prefix, so a shared bucket never mixes cases.
    function test(
      title: string,
      body: () => Promise<void>,
      options: { needs?: keyof ContractCapabilities; timeout?: number } = {},
    ) {
      it(
        title,
        async (context) => {
          if (skipReason) context.skip(skipReason);
          const capability = options.needs ? subject?.capabilities[options.needs] : true;
          if (capability !== true)
            context.skip(typeof capability === 'string' ? capability : `backend lacks ${options.needs}`);
          prefix = uniquePrefix();
          await body();
        },
        options.timeout ?? 30_000,
      );
    }

    test('puts a buffer and reads it back with stat', async () => {
      const data = Buffer.from('hello dapple');
      const result = await store.put(`${prefix}a.txt`, data, { size: data.length, contentType: 'text/plain' });
      expect(result.size).toBe(data.length);
      expect((await readAll(await store.get(`${prefix}a.txt`))).toString()).toBe('hello dapple');
      const stat = await store.stat(`${prefix}a.txt`);
      expect(stat).not.toBeNull();
      expect(stat!.size).toBe(data.length);
      expect(stat!.contentType).toBe('text/plain');
      expect(stat!.lastModified).toBeInstanceOf(Date);
      const md5 = createHash('md5').update(data).digest('hex');
      if (result.etag) expect(result.etag).toBe(md5);
      if (stat!.etag) expect(stat!.etag).toBe(md5);
    });

    test('puts a stream and a Uint8Array, and an empty object', async () => {
      const parts = [Buffer.from('abc'), Buffer.from('defg'), Buffer.from('h')];
      await store.put(`${prefix}stream.bin`, Readable.from(parts), { size: 8 });
      expect((await readAll(await store.get(`${prefix}stream.bin`))).toString()).toBe('abcdefgh');
      await store.put(`${prefix}u8.bin`, new Uint8Array([1, 2, 3]), { size: 3 });
      expect([...(await readAll(await store.get(`${prefix}u8.bin`)))]).toEqual([1, 2, 3]);
      await store.put(`${prefix}empty.bin`, Buffer.alloc(0), { size: 0 });
      expect((await store.stat(`${prefix}empty.bin`))!.size).toBe(0);
      expect((await readAll(await store.get(`${prefix}empty.bin`))).length).toBe(0);
    });

    test('overwrites an existing key', async () => {
      await store.put(`${prefix}k`, Buffer.from('one'), { size: 3 });
      await store.put(`${prefix}k`, Buffer.from('second'), { size: 6 });
      expect((await readAll(await store.get(`${prefix}k`))).toString()).toBe('second');
      expect((await store.stat(`${prefix}k`))!.size).toBe(6);
    });

    test('a missing key: stat is null, get throws ObjectNotFoundError', async () => {
      expect(await store.stat(`${prefix}missing`)).toBeNull();
      await expect(store.get(`${prefix}missing`)).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.get(`${prefix}missing`, { start: 0, end: 1 })).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    test('reads byte ranges (inclusive end, clamped past the end)', async () => {
      const data = Buffer.from('0123456789');
      await store.put(`${prefix}r`, data, { size: data.length });
      const read = async (start: number, end?: number) =>
        (await readAll(await store.get(`${prefix}r`, end === undefined ? { start } : { start, end }))).toString();
      expect(await read(2, 5)).toBe('2345');
      expect(await read(7)).toBe('789');
      expect(await read(8, 100)).toBe('89');
      await expect(store.get(`${prefix}r`, { start: 10 })).rejects.toBeInstanceOf(InvalidRangeError);
      await expect(store.get(`${prefix}r`, { start: 5, end: 4 })).rejects.toBeInstanceOf(InvalidRangeError);
    });

    test(
      'reads a range that ends at byte 0',
      async () => {
        await store.put(`${prefix}r0`, Buffer.from('0123'), { size: 4 });
        expect((await readAll(await store.get(`${prefix}r0`, { start: 0, end: 0 }))).toString()).toBe('0');
      },
      { needs: 'rangeEndingAtZero' },
    );

    test('a body of the wrong size fails with SizeMismatchError and stores nothing', async () => {
      const key = `${prefix}wrong`;
      await expect(store.put(key, Buffer.from('12345'), { size: 4 })).rejects.toBeInstanceOf(SizeMismatchError);
      await expect(store.put(key, Readable.from([Buffer.from('123')]), { size: 4 })).rejects.toBeInstanceOf(
        SizeMismatchError,
      );
      await expect(
        store.put(key, Readable.from([Buffer.from('123'), Buffer.from('45')]), { size: 4 }),
      ).rejects.toBeInstanceOf(SizeMismatchError);
      expect(await store.stat(key)).toBeNull();
      expect(await collect(store.list(prefix))).toEqual([]);
    });

    test('a failed overwrite keeps the earlier object intact', async () => {
      const key = `${prefix}keep`;
      await store.put(key, Buffer.from('original'), { size: 8 });
      await expect(store.put(key, Readable.from([Buffer.from('short')]), { size: 100 })).rejects.toBeInstanceOf(
        SizeMismatchError,
      );
      expect((await readAll(await store.get(key))).toString()).toBe('original');
    });

    test('a stream that errors fails the put and stores nothing', async () => {
      const failing = new Readable({
        read() {
          this.destroy(new Error('disk on fire'));
        },
      });
      await expect(store.put(`${prefix}broken`, failing, { size: 10 })).rejects.toThrow('disk on fire');
      expect(await store.stat(`${prefix}broken`)).toBeNull();
    });

    test('rejects invalid keys, sizes and content types before any I/O', async () => {
      for (const key of ['../x', '/x', 'A', 'a//b', 'a/./b', 'a/', '', 'x'.repeat(600), 'sp ace', 'ü']) {
        await expect(store.put(key, Buffer.from('x'), { size: 1 }), key).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.stat(key), key).rejects.toBeInstanceOf(InvalidKeyError);
      }
      await expect(store.put(`${prefix}x`, Buffer.from('x'), { size: -1 })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      await expect(store.put(`${prefix}x`, Buffer.from('x'), {} as { size: number })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      await expect(
        store.put(`${prefix}x`, Buffer.from('x'), { size: 1, contentType: 'text/plain\r\nX-Evil: 1' }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
    });

    const listedKeys = ['a/x', 'a-b', 'a.c', 'ab', 'a/y/z', 'b', 'a'];

    test(
      'lists in ascending key order',
      async () => {
        for (const key of listedKeys) await store.put(`${prefix}${key}`, Buffer.from(key), { size: key.length });
        const all = await collect(store.list(prefix));
        expect(all.map((o) => o.key.slice(prefix.length))).toEqual(['a', 'a-b', 'a.c', 'a/x', 'a/y/z', 'ab', 'b']);
      },
      { needs: 'listsInKeyOrder' },
    );

    test('lists recursively by prefix, with startAfter', async () => {
      for (const key of listedKeys) await store.put(`${prefix}${key}`, Buffer.from(key), { size: key.length });
      const all = await collect(store.list(prefix));
      expect(all.map((o) => o.key.slice(prefix.length)).sort()).toEqual(['a', 'a-b', 'a.c', 'a/x', 'a/y/z', 'ab', 'b']);
      expect(all.find((o) => o.key === `${prefix}a/y/z`)!.size).toBe(5);
      expect(all[0]!.lastModified).toBeInstanceOf(Date);
      const partial = await collect(store.list(`${prefix}a`));
      expect(partial.length).toBe(6);
      const folder = await collect(store.list(`${prefix}a/`));
      expect(folder.map((o) => o.key.slice(prefix.length)).sort()).toEqual(['a/x', 'a/y/z']);
      const after = await collect(store.list(prefix, { startAfter: `${prefix}a.c` }));
      expect(after.map((o) => o.key.slice(prefix.length)).sort()).toEqual(['a/x', 'a/y/z', 'ab', 'b']);
      expect(await collect(store.list(`${prefix}nothing/`))).toEqual([]);
    });

    test('deletes keys (a missing key is fine) and whole prefixes', async () => {
      for (const key of ['1/a', '1/b/c', '10/a', '2/a'])
        await store.put(`${prefix}${key}`, Buffer.from('x'), { size: 1 });
      await store.delete(`${prefix}2/a`);
      await store.delete(`${prefix}2/a`);
      expect(await store.stat(`${prefix}2/a`)).toBeNull();
      expect(await store.deletePrefix(`${prefix}1/`)).toBe(2);
      expect((await collect(store.list(prefix))).map((o) => o.key)).toEqual([`${prefix}10/a`]);
      expect(await store.deletePrefix(`${prefix}1/`)).toBe(0);
      await expect(store.deletePrefix(`${prefix}1`)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(store.deletePrefix('')).rejects.toBeInstanceOf(InvalidKeyError);
    });

    test('copies an object with its content type', async () => {
      await store.put(`${prefix}src.json`, Buffer.from('{"a":1}'), { size: 7, contentType: 'application/json' });
      await store.copy(`${prefix}src.json`, `${prefix}dst/copy.json`);
      expect((await readAll(await store.get(`${prefix}dst/copy.json`))).toString()).toBe('{"a":1}');
      expect((await store.stat(`${prefix}dst/copy.json`))!.contentType).toBe('application/json');
      expect(await store.stat(`${prefix}src.json`)).not.toBeNull();
      await expect(store.copy(`${prefix}nope`, `${prefix}x`)).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    test('presigned PUT and GET work with fetch', async () => {
      const key = `${prefix}up/image.png`;
      const data = randomBytes(1000);
      const put = await store.presignPut(key, { expiresInSec: 60, contentType: 'image/png' });
      expect(put.method).toBe('PUT');
      expect(put.expiresAt.getTime()).toBeGreaterThan(Date.now());
      const putResponse = await send(put, data);
      expect(putResponse.status, await putResponse.clone().text()).toBe(200);
      expect(putResponse.headers.get('etag')).toBeTruthy();
      const stat = await store.stat(key);
      expect(stat!.size).toBe(1000);
      expect(stat!.contentType).toBe('image/png');

      const get = await store.presignGet(key, { expiresInSec: 60 });
      const getResponse = await send(get);
      expect(getResponse.status).toBe(200);
      expect(Buffer.from(await getResponse.arrayBuffer()).equals(data)).toBe(true);
      const ranged = await fetch(get.url, { headers: { Range: 'bytes=10-19' } });
      expect(ranged.status).toBe(206);
      expect(Buffer.from(await ranged.arrayBuffer()).equals(data.subarray(10, 20))).toBe(true);
    });

    test(
      'a presigned PUT signed for a size accepts that size only',
      async () => {
        const key = `${prefix}sized.bin`;
        const signed = await store.presignPut(key, { expiresInSec: 60, size: 100 });
        const wrong = await send(signed, randomBytes(101));
        expect(wrong.status).toBeGreaterThanOrEqual(400);
        expect(wrong.status).toBeLessThan(500);
        expect(await store.stat(key)).toBeNull();
        const right = await send(signed, randomBytes(100));
        expect(right.status).toBe(200);
        expect((await store.stat(key))!.size).toBe(100);
      },
      { needs: 'verifiesSignatures' },
    );

    test('URL expiry is capped at 15 minutes', async () => {
      await expect(store.presignGet(`${prefix}x`, { expiresInSec: 901 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(store.presignPut(`${prefix}x`, { expiresInSec: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
      const defaulted = await store.presignGet(`${prefix}x`);
      expect(defaulted.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(900_000);
    });

    async function uploadPart(
      key: string,
      uploadId: string,
      partNumber: number,
      data: Buffer,
      size?: number,
    ): Promise<string> {
      const signed = await store.presignPart(key, uploadId, partNumber, {
        expiresInSec: 60,
        ...(size === undefined ? {} : { size }),
      });
      const response = await send(signed, data);
      expect(response.status, await response.clone().text()).toBe(200);
      const etag = response.headers.get('etag');
      expect(etag).toBeTruthy();
      return etag!;
    }

    test(
      'multipart upload through presigned part URLs with fetch',
      async () => {
        const key = `${prefix}big.bin`;
        const part1 = randomBytes(MIN_PART_SIZE);
        const part2 = randomBytes(1234);
        const uploadId = await store.createMultipartUpload(key, { contentType: 'application/octet-stream' });
        const etag2 = await uploadPart(key, uploadId, 2, part2);
        const etag1 = await uploadPart(key, uploadId, 1, part1, part1.length);
        expect(await store.stat(key)).toBeNull();
        const result = await store.completeMultipartUpload(key, uploadId, [
          { partNumber: 1, etag: etag1 },
          { partNumber: 2, etag: etag2 },
        ]);
        expect(result.size).toBe(part1.length + part2.length);
        const stored = await md5OfStream(await store.get(key));
        expect(stored.md5).toBe(createHash('md5').update(part1).update(part2).digest('hex'));
        expect(
          (await readAll(await store.get(key, { start: MIN_PART_SIZE - 2, end: MIN_PART_SIZE + 1 }))).equals(
            Buffer.concat([part1.subarray(-2), part2.subarray(0, 2)]),
          ),
        ).toBe(true);
      },
      { timeout: 60_000 },
    );

    test(
      'listParts tells a resuming client which parts arrived',
      async () => {
        const key = `${prefix}resume.bin`;
        const uploadId = await store.createMultipartUpload(key);
        expect(await store.listParts(key, uploadId)).toEqual([]);
        const part1 = randomBytes(MIN_PART_SIZE);
        const etag1 = await uploadPart(key, uploadId, 1, part1);
        const listed = await store.listParts(key, uploadId);
        expect(listed).toEqual([{ partNumber: 1, etag: etag1.replace(/"/g, ''), size: MIN_PART_SIZE }]);
        // the client resumes with part 2 only
        const etag2 = await uploadPart(key, uploadId, 2, Buffer.from('tail'));
        const all = await store.listParts(key, uploadId);
        expect(all.map((p) => p.partNumber)).toEqual([1, 2]);
        await store.completeMultipartUpload(
          key,
          uploadId,
          all.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
        );
        expect((await store.stat(key))!.size).toBe(MIN_PART_SIZE + 4);
        expect(etag2).toBeTruthy();
      },
      { needs: 'fullMultipart', timeout: 60_000 },
    );

    test('a part uploaded twice: the later one wins', async () => {
      const key = `${prefix}twice.bin`;
      const uploadId = await store.createMultipartUpload(key);
      await uploadPart(key, uploadId, 1, Buffer.from('first version'));
      const etag = await uploadPart(key, uploadId, 1, Buffer.from('second'));
      await store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag }]);
      expect((await readAll(await store.get(key))).toString()).toBe('second');
    });

    test(
      'complete refuses a stale etag, a short middle part, bad order; abort ends an upload',
      async () => {
        const key = `${prefix}strict.bin`;
        const uploadId = await store.createMultipartUpload(key);
        const stale = await uploadPart(key, uploadId, 1, Buffer.from('old'));
        const small = await uploadPart(key, uploadId, 1, Buffer.from('new'));
        const last = await uploadPart(key, uploadId, 2, Buffer.from('last'));
        await expect(
          store.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag: stale }]),
        ).rejects.toBeInstanceOf(InvalidPartError);
        await expect(
          store.completeMultipartUpload(key, uploadId, [
            { partNumber: 1, etag: small },
            { partNumber: 2, etag: last },
          ]),
        ).rejects.toBeInstanceOf(InvalidPartError);
        await expect(
          store.completeMultipartUpload(key, uploadId, [
            { partNumber: 2, etag: last },
            { partNumber: 1, etag: small },
          ]),
        ).rejects.toBeInstanceOf(InvalidPartError);
        expect(await store.stat(key)).toBeNull();
        // After the refusals the upload is still there: replace part 1 with a full-size one and complete.
        // (Every uploaded part is listed: Ceph RGW refuses to complete with a subset of them.)
        const full = randomBytes(MIN_PART_SIZE);
        const fullEtag = await uploadPart(key, uploadId, 1, full);
        const parts = [
          { partNumber: 1, etag: fullEtag },
          { partNumber: 2, etag: last },
        ];
        await store.completeMultipartUpload(key, uploadId, parts);
        expect((await readAll(await store.get(key, { start: MIN_PART_SIZE }))).toString()).toBe('last');
        // A repeated complete: S3 servers (Ceph RGW too) answer it with the same result, DiskStore says the
        // upload is gone. Either way the object is unchanged; refusing a second complete is the service's job.
        const again = await store.completeMultipartUpload(key, uploadId, parts).catch((error: unknown) => error);
        if (again instanceof Error) expect(again).toBeInstanceOf(UploadNotFoundError);
        else expect(again).toMatchObject({ size: MIN_PART_SIZE + 4 });
        expect((await store.stat(key))!.size).toBe(MIN_PART_SIZE + 4);

        const aborted = await store.createMultipartUpload(`${prefix}aborted.bin`);
        await uploadPart(`${prefix}aborted.bin`, aborted, 1, Buffer.from('x'));
        await store.abortMultipartUpload(`${prefix}aborted.bin`, aborted);
        await store.abortMultipartUpload(`${prefix}aborted.bin`, aborted); // idempotent
        await expect(store.listParts(`${prefix}aborted.bin`, aborted)).rejects.toBeInstanceOf(UploadNotFoundError);
        expect(await store.stat(`${prefix}aborted.bin`)).toBeNull();
      },
      { needs: 'fullMultipart', timeout: 60_000 },
    );

    test(
      'a one-part upload (small or empty) completes; its part URL takes no write once completed or aborted',
      async () => {
        // What the hub does on S3 for files under the multipart threshold, so their URLs die with the upload.
        for (const data of [Buffer.from('a small file'), Buffer.alloc(0)]) {
          const key = `${prefix}one-part-${data.length}.bin`;
          const uploadId = await store.createMultipartUpload(key);
          const signed = await store.presignPart(key, uploadId, 1, { expiresInSec: 60, size: data.length });
          const sent = await send(signed, data);
          expect(sent.status, await sent.clone().text()).toBe(200);
          const [part] = await store.listParts(key, uploadId);
          expect(part).toMatchObject({ partNumber: 1, size: data.length });
          expect((await store.completeMultipartUpload(key, uploadId, [part!])).size).toBe(data.length);
          expect((await send(signed, Buffer.alloc(data.length, 1))).status).toBeGreaterThanOrEqual(400);
          expect((await readAll(await store.get(key))).equals(data)).toBe(true);
        }
        const key = `${prefix}one-part-aborted.bin`;
        const uploadId = await store.createMultipartUpload(key);
        const signed = await store.presignPart(key, uploadId, 1, { expiresInSec: 60, size: 3 });
        expect((await send(signed, Buffer.from('abc'))).status).toBe(200);
        await store.abortMultipartUpload(key, uploadId);
        expect((await send(signed, Buffer.from('abc'))).status).toBeGreaterThanOrEqual(400);
        expect(await store.stat(key)).toBeNull();
      },
      { needs: 'fullMultipart' },
    );

    test(
      'a presigned part signed for a size refuses another length',
      async () => {
        const key = `${prefix}sizedpart.bin`;
        const uploadId = await store.createMultipartUpload(key);
        const signed = await store.presignPart(key, uploadId, 1, { expiresInSec: 60, size: 10 });
        const wrong = await send(signed, Buffer.from('eleven byte'));
        expect(wrong.status).toBeGreaterThanOrEqual(400);
        expect(wrong.status).toBeLessThan(500);
        expect(await store.listParts(key, uploadId)).toEqual([]);
        await store.abortMultipartUpload(key, uploadId);
      },
      { needs: 'fullMultipart' },
    );

    test(
      'streams a 40 MiB put and get (multipart on S3) with the right bytes',
      async () => {
        const key = `${prefix}forty.bin`;
        const body = generatedBody(40 * MiB);
        const result = await store.put(key, body.stream(), { size: 40 * MiB });
        expect(result.size).toBe(40 * MiB);
        expect((await store.stat(key))!.size).toBe(40 * MiB);
        const read = await md5OfStream(await store.get(key));
        expect(read.bytes).toBe(40 * MiB);
        expect(read.md5).toBe(await body.md5());
        const middle = await readAll(await store.get(key, { start: 16 * MiB - 3, end: 16 * MiB + 2 }));
        expect(middle.length).toBe(6);
      },
      { timeout: 120_000 },
    );

    test(
      'a 40 MiB stream one byte short fails and leaves no object',
      async () => {
        const key = `${prefix}short.bin`;
        const body = generatedBody(40 * MiB);
        await expect(store.put(key, body.stream(), { size: 40 * MiB + 1 })).rejects.toBeInstanceOf(SizeMismatchError);
        expect(await store.stat(key)).toBeNull();
      },
      { timeout: 120_000 },
    );
  });
}
