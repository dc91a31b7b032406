import sharp from 'sharp';
import { createReadStream } from 'node:fs';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
sharp.concurrency(1); sharp.cache(false);
const N = 1000, C = 3;
await mkdir('/tmp/micro', { recursive: true });
const raw = Buffer.alloc(256*256*3); for (let i=0;i<raw.length;i++) raw[i]=(i*7+(i>>9))&255;
const files: string[] = [];
for (let i=0;i<N;i++){ raw[i]=i&255; const f=`/tmp/micro/${i}.jpg`; await writeFile(f, await sharp(raw,{raw:{width:256,height:256,channels:3}}).jpeg().toBuffer()); files.push(f);}
async function run(name: string, fn: (f: string) => Promise<unknown>) {
  let next = 0; const t = performance.now();
  await Promise.all(Array.from({length: C}, async () => { while (next < N) await fn(files[next++]!); }));
  console.log(name, (N / ((performance.now() - t) / 1000)).toFixed(0), 'img/s');
}
const resize = (b: Buffer) => sharp(b).resize(32,32,{fit:'cover',kernel:'lanczos3'}).raw().toBuffer();
const readStream = async (f: string) => { const parts: Buffer[] = []; for await (const c of createReadStream(f)) parts.push(c as Buffer); return Buffer.concat(parts); };
for (let r = 0; r < 2; r++) {
await run('base', async f => resize(await readFile(f)));
await run('stream', async f => resize(await readStream(f)));
await run('meta+resize', async f => { const b = await readFile(f); await sharp(b).metadata(); return resize(b); });
await run('full', async f => { const b = await readFile(f); createHash('sha256').update(b).digest(); await sharp(b,{pages:1}).metadata(); return sharp(b,{pages:1,failOn:'truncated'}).rotate().resize(32,32,{fit:'cover',kernel:'lanczos3'}).flatten({background:'black'}).toColourspace('srgb').raw({depth:'uchar'}).toBuffer(); });
await run('resize+thumb', async f => { const px = await resize(await readFile(f)); return sharp(px,{raw:{width:32,height:32,channels:3}}).webp().toBuffer(); });
}
