import sharp from 'sharp';
sharp.concurrency(1);
const g = Buffer.alloc(256*256*3); let st=1; for (let i=0;i<g.length;i++){st=(st*1664525+1013904223)>>>0; g[i]=((i%768)/3+(st>>>28))&255;}
for (const [name, f] of [['webp85', (s: sharp.Sharp) => s.webp({quality:85})], ['webp80e2', (s: sharp.Sharp) => s.webp({quality:80, effort: 2})], ['webp80e0', (s: sharp.Sharp) => s.webp({quality:80, effort: 0})], ['png', (s: sharp.Sharp) => s.png()], ['png1', (s: sharp.Sharp) => s.png({compressionLevel: 1})], ['jpeg', (s: sharp.Sharp) => s.jpeg({quality: 85})]] as const) {
  const cpu = process.cpuUsage(); let size = 0;
  for (let i = 0; i < 20; i++) size = (await f(sharp(g, {raw:{width:256,height:256,channels:3}})).toBuffer()).length;
  const u = process.cpuUsage(cpu); console.log(name, ((u.user+u.system)/1000/20).toFixed(2), 'ms cpu/sheet', size, 'bytes');
}
