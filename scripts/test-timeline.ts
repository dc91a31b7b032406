// Reads reports/vitest-timeline.json (written by vitest.timeline-reporter.ts during `npm test`) and prints where a
// worker had no file to run: the stretch before the first file (global setups), stretches with fewer files running
// than workers, and the files that ran then. Usage: tsx scripts/test-timeline.ts [workers]
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import type { TimelineEntry } from '../vitest.timeline-reporter.ts';

const root = new URL('..', import.meta.url).pathname;
const { total, files } = JSON.parse(readFileSync(`${root}reports/vitest-timeline.json`, 'utf8')) as {
  total: number;
  files: TimelineEntry[];
};
const workers = Number(process.argv[2] ?? Math.max(2, availableParallelism()));

const first = Math.min(...files.map((f) => f.queued));
const spans = files.map((f) => f.ended - f.queued);
console.log(`${files.length} files, ${total.toFixed(0)} s in all; first file handed out at ${first.toFixed(1)} s`);
console.log(
  `file time ${spans.reduce((a, b) => a + b, 0).toFixed(0)} s (of which imports ${files
    .reduce((a, f) => a + f.collect, 0)
    .toFixed(
      0,
    )} s); ${workers} workers busy end to end would take ${(spans.reduce((a, b) => a + b, 0) / workers).toFixed(0)} s`,
);

// Walk the run second by second (0.1 s steps), merging steps with the same set of running files.
let idleWorkerSeconds = 0;
let stretch: { from: number; to: number; running: string[] } | undefined;
const stretches: { from: number; to: number; running: string[] }[] = [];
for (let t = first; t < total; t += 0.1) {
  const running = files.filter((f) => f.queued <= t && f.ended > t).map((f) => f.file);
  const idle = Math.max(0, workers - running.length);
  idleWorkerSeconds += idle * 0.1;
  const key = running.join(',');
  if (idle > 0 && stretch && stretch.running.join(',') === key) stretch.to = t + 0.1;
  else {
    if (stretch) stretches.push(stretch);
    stretch = idle > 0 ? { from: t, to: t + 0.1, running } : undefined;
  }
}
if (stretch) stretches.push(stretch);
console.log(`idle worker-seconds after the first file: ${idleWorkerSeconds.toFixed(0)} s`);
for (const s of stretches.filter((s) => s.to - s.from >= 2))
  console.log(
    `  ${s.from.toFixed(0).padStart(5)}–${s.to.toFixed(0).padEnd(5)} s  ${s.running.length} running: ${s.running.join(', ') || '(none)'}`,
  );
console.log('\nlongest files (handed out → ended, import):');
for (const f of [...files].sort((a, b) => b.ended - b.queued - (a.ended - a.queued)).slice(0, 25))
  console.log(
    `  ${(f.ended - f.queued).toFixed(1).padStart(6)} s  (${f.collect.toFixed(1)} s import) ${f.queued.toFixed(0).padStart(5)}–${f.ended.toFixed(0).padEnd(5)} ${f.file}`,
  );
