// Writes checks/test-durations.json (each test file's wall time, in seconds) from the JSON report of a full
// `npm test` (reports/vitest.json). vitest.sequencer.ts starts the longest files first from it on machines without
// vitest's own results cache (CI). Run after a full run on an idle machine: `npm run test:durations`.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const report = JSON.parse(readFileSync(`${root}reports/vitest.json`, 'utf8')) as {
  testResults: { name: string; startTime: number; endTime: number }[];
};
const durations = Object.fromEntries(
  report.testResults
    .map((r) => [relative(root, r.name), Math.round((r.endTime - r.startTime) / 100) / 10] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1)),
);
writeFileSync(`${root}checks/test-durations.json`, `${JSON.stringify(durations, null, 2)}\n`);
console.log(`${Object.keys(durations).length} files recorded in checks/test-durations.json`);
