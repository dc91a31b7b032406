/**
 * Writes src/app/favicon.ico from src/app/icon.svg (16, 32 and 48 px PNGs in one ICO).
 *
 * Why both: pages whose title comes from an async generateMetadata get their <head> tags streamed after the
 * first bytes (Next 16), so Chromium may ask for /favicon.ico before it has seen the <link rel="icon">. Without
 * this file that request is a 404 on every such page. Run it after changing the icon:
 *   npm run build:favicon -w @dapple/web
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const SIZES = [16, 32, 48];
const appDir = fileURLToPath(new URL('../src/app/', import.meta.url));

async function main() {
  const svg = readFileSync(`${appDir}icon.svg`);
  const pngs = await Promise.all(
    SIZES.map((s) =>
      sharp(svg, { density: 72 * (s / 32) * 4 })
        .resize(s, s)
        .png()
        .toBuffer(),
    ),
  );
  writeFileSync(`${appDir}favicon.ico`, icoOf(pngs.map((png, i) => ({ size: SIZES[i]!, png }))));
}

/** An ICO container of PNG images (ICONDIR, one ICONDIRENTRY per image, then the PNGs). */
function icoOf(images: { size: number; png: Buffer }[]): Buffer {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, png }, i) => {
    const entry = 6 + 16 * i;
    header.writeUInt8(size, entry); // width (SIZES stay below 256, which ICO writes as 0)
    header.writeUInt8(size, entry + 1); // height
    header.writeUInt8(0, entry + 2); // no palette
    header.writeUInt8(0, entry + 3); // reserved
    header.writeUInt16LE(1, entry + 4); // colour planes
    header.writeUInt16LE(32, entry + 6); // bits per pixel
    header.writeUInt32LE(png.length, entry + 8);
    header.writeUInt32LE(offset, entry + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...images.map((i) => i.png)]);
}

await main();
