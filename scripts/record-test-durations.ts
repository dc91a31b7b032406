// Writes checks/test-durations.json (each test file's wall time, in seconds) from a full `npm test`: from
// reports/vitest-timeline.json (vitest.timeline-reporter.ts: the whole file, imports and beforeAll included), else from
// vitest's JSON report (reports/vitest.json), which times only from the first test's start to the last test's end and
// so reads 0 s for a file whose work is in beforeAll (checks/typescript.test.ts) — that file then started last.
// vitest.sequencer.ts starts the longest files first from it on machines without vitest's own results cache (CI).
// Run after a full run on an idle machine: `npm run test:durations`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { TimelineEntry } from '../vitest.timeline-reporter.ts';

const root = new URL('..', import.meta.url).pathname;
const timelinePath = `${root}reports/vitest-timeline.json`;
const seconds = (s: number) => Math.round(s * 10) / 10;
const measured: (readonly [string, number])[] = existsSync(timelinePath)
  ? (JSON.parse(readFileSync(timelinePath, 'utf8')) as { files: TimelineEntry[] }).files.map(
      (f) => [f.file, seconds(f.ended - f.queued)] as const,
    )
  : (
      JSON.parse(readFileSync(`${root}reports/vitest.json`, 'utf8')) as {
        testResults: { name: string; startTime: number; endTime: number }[];
      }
    ).testResults.map((r) => [relative(root, r.name), seconds((r.endTime - r.startTime) / 1000)] as const);
const durations = Object.fromEntries(measured.sort(([a], [b]) => (a < b ? -1 : 1)));
writeFileSync(`${root}checks/test-durations.json`, `${JSON.stringify(durations, null, 2)}\n`);
console.log(`${Object.keys(durations).length} files recorded in checks/test-durations.json`);
