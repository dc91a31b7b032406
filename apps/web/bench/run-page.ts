// `npm run bench -w @dapple/web` (this file: `npx tsx apps/web/bench/run-page.ts`): the run page in Chromium
// against the production build of the dashboard and a real hub on an embedded Postgres.
//  - tti: navigation start → every chart drawn (uPlot canvas present with points) and the live feed connected,
//    for a run with 10 series × 100k points, against the same page for a run with 10 series × 1k points.
//  - live: one new point per series inserted and NOTIFYed as the trainer API does → the loss chart shows it
//    (end-to-end), and the chart's own setData time (`data-redraw-ms`), for both runs.
// The machine is shared and noisy: cases run interleaved for --rounds rounds; medians are reported, and each
// line carries the ratio against the 1k-point baseline measured in the same process.
//  - raw_redraw: uPlot alone in the page with every raw point (10 × 100k, no downsampling): setData + draw.
// Options: --points N per series (100000) --baseline N (1000) --rounds N (3) --updates N per round (5)
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { RunConfigSchema } from '@dapple/contracts/run-config';
import { insertMetricPoints } from '@dapple/db';
import { insertRunningRun } from '@dapple/server/testing';
import { median, startBenchHub } from './bench-dashboard';

const { values: args } = parseArgs({
  options: {
    points: { type: 'string', default: '100000' },
    baseline: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    updates: { type: 'string', default: '5' },
  },
});
const POINTS = Number(args.points);
const BASELINE = Number(args.baseline);
const ROUNDS = Number(args.rounds);
const UPDATES = Number(args.updates);
// The trainer's keys: 10 series over the page's charts (loss, quartiles, grad norm, lr, images/s, memory).
const KEYS = [
  'loss',
  'loss_q1',
  'loss_q2',
  'loss_q3',
  'loss_q4',
  'grad_norm',
  'lr',
  'images_per_sec',
  'rss_mb',
  'gpu_mem_mb',
];
const UPLOT_IIFE = createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js');

const value = (key: string, step: number) =>
  Math.exp(-step / 20_000) * (1 + 0.1 * Math.sin(step * 0.37 + key.length)) + (key === 'lr' ? 0 : 0.05);

const bench = await startBenchHub('run-page', { poolMax: 4 });
const { direct, teamId, userId } = bench;
try {
  async function createRun(name: string, perSeries: number): Promise<{ id: string; lastStep: number }> {
    const config = RunConfigSchema.parse({ preset: 'tiny', steps: perSeries * 2 });
    const run = await insertRunningRun(direct.db, { teamId, createdBy: userId, name, config, step: perSeries - 1 });
    const CHUNK = 20_000;
    for (let start = 0; start < perSeries; start += CHUNK) {
      const points = [];
      for (let step = start; step < Math.min(perSeries, start + CHUNK); step++)
        for (const key of KEYS) points.push({ key, step, value: value(key, step) });
      await insertMetricPoints(direct.pool, run.id, points);
    }
    return { id: run.id, lastStep: perSeries - 1 };
  }
  const t0 = performance.now();
  const small = await createRun('baseline-1k', BASELINE);
  const big = await createRun('big-100k', POINTS);
  process.stderr.write(
    `inserted ${KEYS.length} × ${POINTS} + ${KEYS.length} × ${BASELINE} points in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );

  const { context } = await bench.openDashboard({ timeoutMs: 120_000 });

  /** ms from navigation start until every chart is drawn and the metrics feed is live. */
  async function timeToInteractive(page: Page, runId: string): Promise<number> {
    await page.goto(`/t/bench/runs/${runId}`);
    const handle = await page.waitForFunction(
      () => {
        const charts = [...document.querySelectorAll('[data-testid^="chart-"]')];
        const drawn =
          charts.length > 0 &&
          charts.every((c) => Number(c.getAttribute('data-points')) > 0 && c.querySelector('canvas'));
        const live = document.querySelector('[data-testid="metrics-live"]')?.getAttribute('data-status') === 'live';
        return drawn && live ? performance.now() : false;
      },
      undefined,
      { polling: 'raf', timeout: 120_000 },
    );
    return (await handle.jsonValue()) as number;
  }

  /**
   * The chart library alone at full resolution: a uPlot of 10 series × `n` raw points in the page
   * (same size as a chart of the page), timed over setData and the draw it queues.
   */
  async function rawRedraw(page: Page, n: number): Promise<number> {
    return page.evaluate((n) => {
      const U = (
        window as unknown as {
          uPlot: new (opts: object, data: unknown, el: HTMLElement) => { setData(d: unknown): void; destroy(): void };
        }
      ).uPlot;
      const xs = new Float64Array(n).map((_, i) => i);
      const data = [
        xs,
        ...Array.from({ length: 10 }, (_, k) =>
          new Float64Array(n).map((_, i) => Math.exp(-i / n) + 0.1 * Math.sin(i * 0.37 + k)),
        ),
      ];
      const el = document.createElement('div');
      document.body.append(el);
      const chart = new U(
        {
          width: 600,
          height: 220,
          scales: { x: { time: false } },
          series: [{}, ...data.slice(1).map(() => ({ stroke: '#6366f1' }))],
        },
        data,
        el,
      );
      return new Promise<number>((resolve) => {
        // One more point per series, as a live update would add.
        const more = data.map((col, i) => {
          const next = new Float64Array(n + 1);
          next.set(col);
          next[n] = i === 0 ? n : col[n - 1]!;
          return next;
        });
        // After the first draw (a frame later), time one redraw.
        requestAnimationFrame(() => {
          const start = performance.now();
          chart.setData(more);
          queueMicrotask(() => {
            const ms = performance.now() - start;
            chart.destroy();
            el.remove();
            resolve(ms);
          });
        });
      });
    }, n);
  }

  /** One point per series at the next step, NOTIFYed like the trainer API does: ms until the loss chart has it. */
  async function liveUpdate(
    page: Page,
    run: { id: string; lastStep: number },
  ): Promise<{ endToEnd: number; redraw: number }> {
    const before = Number(await page.getByTestId('chart-Loss').getAttribute('data-points'));
    const step = ++run.lastStep;
    const started = performance.now();
    await insertMetricPoints(
      direct.pool,
      run.id,
      KEYS.map((key) => ({ key, step, value: value(key, step) })),
    );
    await direct.pool.query('SELECT pg_notify($1, $2)', [
      'dapple_runs',
      JSON.stringify({ kind: 'metrics', runId: run.id, fromStep: step, toStep: step }),
    ]);
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-testid="chart-Loss"]')?.getAttribute('data-points')) > n,
      before,
      { polling: 'raf', timeout: 60_000 },
    );
    const endToEnd = performance.now() - started;
    // The redraw time is set in the effect right after setData; give React the frame to commit it.
    await page.waitForTimeout(50);
    const redraw = Number(await page.getByTestId('chart-Loss').getAttribute('data-redraw-ms'));
    return { endToEnd, redraw };
  }

  type Samples = Record<'tti' | 'live' | 'redraw' | 'raw', number[]> & { drawn?: number };
  const samples: Record<string, Samples> = {};
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which case goes first: the first page of a round pays for warming caches.
    const order = [
      ['baseline', small],
      ['big', big],
    ] as const;
    for (const [label, run] of round % 2 === 0 ? order : [...order].reverse()) {
      const page = await context.newPage();
      const s = (samples[label] ??= { tti: [], live: [], redraw: [], raw: [] });
      s.tti.push(await timeToInteractive(page, run.id));
      for (let u = 0; u < UPDATES; u++) {
        const { endToEnd, redraw } = await liveUpdate(page, run);
        s.live.push(endToEnd);
        s.redraw.push(redraw);
      }
      s.drawn = Number(await page.getByTestId('chart-Loss').getAttribute('data-points'));
      await page.addScriptTag({ path: UPLOT_IIFE });
      s.raw.push(await rawRedraw(page, label === 'big' ? POINTS : BASELINE));
      await page.close();
    }
  }

  const line = (metric: string, what: string, unit: string, pick: (x: Samples) => number[]) => {
    const big = median(pick(samples.big!));
    const base = median(pick(samples.baseline!));
    console.log(
      JSON.stringify({
        bench: 'web.run-page',
        metric,
        what,
        series: KEYS.length,
        pointsPerSeries: POINTS,
        baselinePointsPerSeries: BASELINE,
        rounds: ROUNDS,
        ...(metric === 'raw_redraw'
          ? {}
          : { drawnLossPoints: samples.big!.drawn, baselineDrawnLossPoints: samples.baseline!.drawn }),
        [`median_${unit}`]: Number(big.toFixed(2)),
        [`baseline_median_${unit}`]: Number(base.toFixed(2)),
        ratio: Number((big / base).toFixed(2)),
      }),
    );
  };
  line('tti', 'navigation start → all charts drawn and live feed connected', 'ms', (x) => x.tti);
  line(
    'live_update',
    'point inserted + NOTIFY → loss chart shows it (hub, WebSocket, React, uPlot)',
    'ms',
    (x) => x.live,
  );
  line('redraw', 'uPlot setData on a live update (data-redraw-ms of the loss chart)', 'ms', (x) => x.redraw);
  line(
    'raw_redraw',
    'uPlot in the page given every raw point (10 series, no server downsampling): setData + draw',
    'ms',
    (x) => x.raw,
  );
} finally {
  await bench.close();
}
