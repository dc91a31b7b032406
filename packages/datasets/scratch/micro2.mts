import sharp from 'sharp';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { processImage } from '../src/image.ts';
sharp.concurrency(1); sharp.cache(false);
const N = 600, C = 3;
await mkdir('/tmp/micro', { recursive: true });
const raw = Buffer.alloc(256*256*3); 
const bufs: Buffer[] = [];
for (let i=0;i<N;i++){ let st=i+1; for (let p=0;p<raw.length;p++){ st=(st*1664525+1013904223)>>>0; raw[p]=((p%768)/3 + (st>>>28) + i)&255;} bufs.push(await sharp(raw,{raw:{width:256,height:256,channels:3}}).jpeg({quality:85}).toBuffer());}
async function run(name: string, fn: (b: Buffer) => Promise<unknown>) {
  let next = 0; const cpu = process.cpuUsage(); const t = performance.now();
  await Promise.all(Array.from({length: C}, async () => { while (next < N) await fn(bufs[next++]!); }));
  const u = process.cpuUsage(cpu);
  console.log(name.padEnd(14), ((u.user+u.system)/1000/N).toFixed(3), 'cpu ms/img', (N / ((performance.now() - t) / 1000)).toFixed(0), 'img/s');
}
const opts = { fit: 'cover' as const, kernel: 'lanczos3' as const };
for (let r = 0; r < 3; r++) {
  await run('base', b => sharp(b).resize(32,32,opts).raw().toBuffer());
  await run('+rotate', b => sharp(b).rotate().resize(32,32,opts).raw().toBuffer());
  await run('+flatten', b => sharp(b).resize(32,32,opts).flatten({background:'black'}).raw().toBuffer());
  await run('+srgb', b => sharp(b).resize(32,32,opts).toColourspace('srgb').raw({depth:'uchar'}).toBuffer());
  await run('+opts', b => sharp(b, {pages:1, limitInputPixels: 4e7, failOn:'truncated'}).resize(32,32,opts).raw().toBuffer());
  await run('processImage', b => processImage(b, {resolution:32, channels:3, maxImagePixels: 4e7}));
  await run('sha', async b => createHash('sha256').update(b).digest('hex'));
}
