import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAs, newUser, screens, useDashboard, waitForPath } from './fixtures';
import { makePng } from './png';
import { planUploadItems } from '@dapple/contracts/upload-pack';

// Resuming a dataset upload after a reload: the page keeps the upload in localStorage, the person picks the
// same files again, and only the parts the hub does not have are sent. The hub's part size is the S3 minimum
// (5 MiB) so a 20 MB image goes up in four parts; the test lets parts 1 and 2 through, holds every other PUT,
// and reloads. The two small images travel together in one zip pack (upload file 1), the big one on its own
// (upload file 0).

const MiB = 1024 * 1024;
const PART = 5 * MiB;

/** A PNG of random pixels stored uncompressed: about width × height × 3 bytes, so big enough to be multipart. */
function noisePng(width: number, height: number): Buffer {
  const row = width * 3 + 1;
  const pixels = randomBytes(row * height);
  for (let y = 0; y < height; y++) pixels[y * row] = 0; // filter byte: None
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 2;
  const chunk = (type: string, data: Buffer) => {
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([length, typed, crc]);
  };
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels, { level: 0 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

interface UploadState {
  status: string;
  files: { path: string; received: boolean; receivedParts: number[] }[];
}

/** A PUT of an upload file: its file index (the object key's last segment) and part number (1 for a single PUT). */
function putOf(url: string): { fileIndex: number; part: number } {
  const parsed = new URL(url);
  return {
    fileIndex: Number(parsed.pathname.split('/').pop()),
    part: Number(parsed.searchParams.get('X-Dapple-Part-Number') ?? 1),
  };
}

describe('resuming a dataset upload after a reload', () => {
  const dash = useDashboard({
    hub: { runs: { executor: false }, datasets: { upload: { multipartThresholdBytes: PART, partBytes: PART } } },
  });
  let dir: string;
  let files: { big: string; small1: string; small2: string; otherBig: string; bigSize: number; packSize: number };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dapple-upload-resume-'));
    const big = noisePng(2600, 2600); // ≈ 19.3 MiB: parts of 5, 5, 5 and 4.3 MiB
    const small1 = makePng(32, 32, 1);
    const small2 = makePng(32, 32, 2);
    await mkdir(join(dir, 'other'));
    await Promise.all([
      writeFile(join(dir, 'big.png'), big),
      writeFile(join(dir, 'a.png'), small1),
      writeFile(join(dir, 'b.png'), small2),
      // Same name, other contents: what a person might pick by mistake.
      writeFile(join(dir, 'other', 'big.png'), noisePng(2600, 2599)),
    ]);
    files = {
      big: join(dir, 'big.png'),
      small1: join(dir, 'a.png'),
      small2: join(dir, 'b.png'),
      otherBig: join(dir, 'other', 'big.png'),
      bigSize: big.length,
      packSize: planUploadItems(
        [
          { path: 'big.png', size: big.length, mtimeMs: 0 },
          { path: 'a.png', size: small1.length, mtimeMs: 0 },
          { path: 'b.png', size: small2.length, mtimeMs: 0 },
        ],
        { zipSmallFiles: true },
      )[1]!.size,
    };
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function setUp(label: string, slug: string) {
    const user = newUser(label);
    const api = await apiAs(dash.hub, user);
    const team = await api.request<{ createTeam: { id: string } }>(
      `mutation ($slug: String!) { createTeam(input: { name: $slug, slug: $slug }) { id } }`,
      { slug },
    );
    expect(team.errors).toBeUndefined();
    const uploadState = async (id: string) => {
      const result = await api.request<{ upload: UploadState }>(
        `query ($id: ID!) { upload(id: $id) { status files { path received receivedParts } } }`,
        { id },
      );
      expect(result.errors).toBeUndefined();
      return result.data!.upload;
    };
    return { user, teamId: team.data!.createTeam.id, uploadState };
  }

  /**
   * Starts uploading big.png, a.png and b.png into a new dataset, lets only parts 1 and 2 of big.png reach the
   * hub, waits until the hub has them and the page recorded them, then reloads. Returns the upload id.
   */
  async function uploadAndReload(
    page: Page,
    teamId: string,
    slug: string,
    datasetName: string,
    uploadState: (id: string) => Promise<UploadState>,
  ) {
    const held: Route[] = [];
    await page.route('**/objects/**', async (route) => {
      const request = route.request();
      if (request.method() === 'PUT') {
        const { fileIndex, part } = putOf(request.url());
        if (!(fileIndex === 0 && (part === 1 || part === 2))) {
          held.push(route); // never answered: the reload cancels it
          return;
        }
      }
      await route.continue();
    });
    await page.goto(`/t/${slug}/datasets/new`);
    await page.getByLabel('Name', { exact: true }).fill(datasetName);
    await page.getByTestId('choose-files').setInputFiles([files.big, files.small1, files.small2]);
    await page.getByText('3 files').waitFor();
    await page.getByRole('button', { name: 'Upload 3 images' }).click();

    const kept = () =>
      page.evaluate((key) => JSON.parse(window.localStorage.getItem(key) ?? 'null'), `dapple:pending-upload:${teamId}`);
    await expect
      .poll(async () => (await kept())?.files?.[0]?.partsDone?.toSorted(), { timeout: 120_000 })
      .toEqual([1, 2]);
    const uploadId: string = (await kept()).uploadId;
    const state = await uploadState(uploadId);
    expect(state.status).toBe('OPEN');
    expect(state.files.map((f) => [f.path, f.receivedParts.toSorted()])).toEqual([
      ['big.png', [1, 2]],
      ['dapple-pack-1.zip', []],
    ]);
    expect(held.length).toBeGreaterThan(0);
    // Reload while the held PUTs are still held (unrouting first would let them through): the reload cancels them.
    await page.reload();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    expect((await uploadState(uploadId)).files[0]!.receivedParts.toSorted()).toEqual([1, 2]);
    return uploadId;
  }

  it('offers the interrupted upload after a reload, refuses another file, and sends only the missing parts of the same files', async () => {
    const shot = screens('upload-resume');
    const { user, teamId, uploadState } = await setUp('resumer', 'resume-team');
    const context = await dash.context(user);
    const page = await context.newPage();
    const uploadId = await uploadAndReload(page, teamId, 'resume-team', 'big-noise', uploadState);

    const percent = Math.floor(((2 * PART) / (files.bigSize + files.packSize)) * 100);
    const banner = page.getByRole('heading', { name: /^Upload of 3 files interrupted at/ });
    await banner.waitFor();
    expect(await banner.textContent()).toBe(
      `Upload of 3 files interrupted at ${percent}% — choose the same files to resume`,
    );
    expect(await page.getByRole('progressbar', { name: 'big.png upload progress' }).getAttribute('aria-valuenow')).toBe(
      String(Math.round(((2 * PART) / files.bigSize) * 100)),
    );
    await shot(page, 'interrupted');

    // Every PUT the page sends from here on.
    const sent: { fileIndex: number; part: number }[] = [];
    page.on('request', (request) => {
      if (request.method() === 'PUT' && new URL(request.url()).pathname.startsWith('/objects/'))
        sent.push(putOf(request.url()));
    });

    // Another file under the same name is refused, saying what differs; nothing is sent.
    await page.getByTestId('choose-files').setInputFiles([files.otherBig, files.small1, files.small2]);
    const error = page.locator('#resume-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('“big.png” is not the file that was being uploaded');
    expect(sent).toEqual([]);
    await shot(page, 'other-file-refused');

    // The same files: parts 3 and 4 of big.png and the pack of the two small files, nothing else; the dataset prepares.
    await page.getByTestId('choose-files').setInputFiles([files.small2, files.big, files.small1]);
    await waitForPath(page, '/t/resume-team/datasets');
    expect(sent.toSorted((a, b) => a.fileIndex - b.fileIndex || a.part - b.part)).toEqual([
      { fileIndex: 0, part: 3 },
      { fileIndex: 0, part: 4 },
      { fileIndex: 1, part: 1 },
    ]);
    expect((await uploadState(uploadId)).status).toBe('COMPLETED');
    expect(
      await page.evaluate((key) => window.localStorage.getItem(key), `dapple:pending-upload:${teamId}`),
    ).toBeNull();
    const row = page.getByTestId('dataset-big-noise');
    await expect.poll(() => row.textContent(), { timeout: 120_000 }).toContain('Ready');
    expect(await row.textContent()).toContain('v1: 3 images');
    await shot(page, 'completed');

    // Back on the new-dataset page: nothing left to resume.
    await page.goto('/t/resume-team/datasets/new');
    await page.getByLabel('Name', { exact: true }).waitFor();
    expect(await page.getByText('interrupted at').count()).toBe(0);
    await context.close();
  });

  it('retries a failed upload in the same page by sending only the parts that did not arrive', async () => {
    const shot = screens('upload-resume');
    const { user, teamId, uploadState } = await setUp('retrier', 'retry-team');
    const context = await dash.context(user);
    const page = await context.newPage();
    // Parts 1 and 2 of big.png go through; once the hub has them, part 3 fails (a dropped connection, every
    // time the page retries it) and every other PUT is held, so the hub has exactly parts 1 and 2 when the page
    // gives up and reports the failure.
    let mode: 'fail' | 'pass' = 'fail';
    let uploadId = '';
    await page.route('**/objects/**', async (route) => {
      const request = route.request();
      if (mode === 'pass' || request.method() !== 'PUT') return route.continue();
      const { fileIndex, part } = putOf(request.url());
      if (fileIndex === 0 && (part === 1 || part === 2)) return route.continue();
      if (fileIndex === 0 && part === 3) {
        uploadId = new URL(request.url()).pathname.split('/').at(-2)!;
        await expect
          .poll(async () => (await uploadState(uploadId)).files[0]!.receivedParts.toSorted(), { timeout: 120_000 })
          .toEqual([1, 2]);
        return route.abort('connectionreset');
      }
      // Held, never answered: the page cancels these requests when part 3 fails.
    });
    await page.goto('/t/retry-team/datasets/new');
    await page.getByLabel('Name', { exact: true }).fill('retry-me');
    await page.getByTestId('choose-files').setInputFiles([files.big, files.small1, files.small2]);
    await page.getByRole('button', { name: 'Upload 3 images' }).click();
    const error = page.locator('#files-error');
    await error.waitFor({ timeout: 120_000 });
    expect(await error.textContent()).toContain('big.png: part 3 could not be sent (network error)');
    // The connection reset is logged by Chromium; it is the failure this test causes.
    const logged = dash.pageErrors.splice(0);
    expect(
      logged.every((e) => e.includes('net::ERR_CONNECTION_RESET')),
      logged.join('\n'),
    ).toBe(true);
    // The progress bars show what the hub has: parts 1 and 2 of big.png.
    const bigProgress = page.getByRole('progressbar', { name: 'big.png upload progress' });
    await expect
      .poll(() => bigProgress.getAttribute('aria-valuenow'))
      .toBe(String(Math.round(((2 * PART) / files.bigSize) * 100)));
    await shot(page, 'failed');
    mode = 'pass';
    expect((await uploadState(uploadId)).files.map((f) => f.receivedParts.toSorted())).toEqual([[1, 2], []]);

    const sent: { fileIndex: number; part: number }[] = [];
    page.on('request', (request) => {
      if (request.method() === 'PUT' && new URL(request.url()).pathname.startsWith('/objects/'))
        sent.push(putOf(request.url()));
    });
    await page.getByRole('button', { name: 'Try the upload again' }).click();
    await waitForPath(page, '/t/retry-team/datasets');
    expect(sent.toSorted((a, b) => a.fileIndex - b.fileIndex || a.part - b.part)).toEqual([
      { fileIndex: 0, part: 3 },
      { fileIndex: 0, part: 4 },
      { fileIndex: 1, part: 1 },
    ]);
    expect((await uploadState(uploadId)).status).toBe('COMPLETED');
    const row = page.getByTestId('dataset-retry-me');
    await expect.poll(() => row.textContent(), { timeout: 120_000 }).toContain('Ready');
    expect(await row.textContent()).toContain('v1: 3 images');
    expect(
      await page.evaluate((key) => window.localStorage.getItem(key), `dapple:pending-upload:${teamId}`),
    ).toBeNull();
    await context.close();
  });

  it('discards an interrupted upload: the hub aborts it and the page offers a new upload', async () => {
    const shot = screens('upload-resume');
    const { user, teamId, uploadState } = await setUp('discarder', 'discard-team');
    const context = await dash.context(user);
    const page = await context.newPage();
    const uploadId = await uploadAndReload(page, teamId, 'discard-team', 'discard-me', uploadState);

    await page.getByRole('heading', { name: /^Upload of 3 files interrupted at \d+%/ }).waitFor();
    await page.getByRole('button', { name: 'Discard' }).click();
    await page.getByText('Discarded the upload to “discard-me”').waitFor();
    await page.getByLabel('Name', { exact: true }).waitFor();
    await shot(page, 'discarded');
    expect((await uploadState(uploadId)).status).toBe('ABORTED');
    expect(
      await page.evaluate((key) => window.localStorage.getItem(key), `dapple:pending-upload:${teamId}`),
    ).toBeNull();
    await page.reload();
    await page.getByLabel('Name', { exact: true }).waitFor();
    expect(await page.getByText('interrupted at').count()).toBe(0);
    await context.close();
  });
});
