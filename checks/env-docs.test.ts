import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HUB_ENV_VARS, loadEnv } from '../apps/server/src/env.ts';
import { DEFAULT_DATASET_CONFIG } from '../apps/server/src/services/datasets/config.ts';
import { DEFAULT_SAMPLING_CONFIG } from '../apps/server/src/sampling-pool/scheduler.ts';
import { cpuSlots } from '../apps/server/src/executors/cpu-slots.ts';
import { TRAINER_ENV_VARS } from '../apps/trainer/src/env.ts';
import { WEB_ENV_VARS, webEnvDefaults } from '../apps/web/src/env.ts';
import { CLI_ENV_VARS } from '../packages/cli/src/env.ts';
import { REPO_ROOT } from './run-tool.ts';

// docs/configuration.md lists every environment variable each process reads, with its default: a table per
// process, one row per variable, and a default written as `code` where the code applies a fixed one.
const doc = readFileSync(`${REPO_ROOT}docs/configuration.md`, 'utf8');

function table(heading: string): Map<string, string> {
  const section = doc.split(/^## /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`docs/configuration.md has no "## ${heading}" section`);
  const rows = [...section.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \|/gm)];
  return new Map(rows.map((m) => [m[1]!, m[2]!.trim()]));
}

/** The first `code` span of a default cell: the value the code must apply. */
const codeDefault = (cell: string | undefined) => /`([^`]+)`/.exec(cell ?? '')?.[1];

const hubDefaults = loadEnv({}) as unknown as Record<string, unknown>;
// Left unset by env.ts because a hub built in code (createHub) has the same defaults: they live beside their code.
const domainDefaults: Record<string, unknown> = {
  DAPPLE_CPU_SLOTS: cpuSlots().length,
  DAPPLE_SAMPLING_WORKERS: DEFAULT_SAMPLING_CONFIG.workers,
  DAPPLE_SAMPLING_TEAM_CONCURRENCY: DEFAULT_SAMPLING_CONFIG.perTeamConcurrency,
  DAPPLE_SAMPLING_MAX_MODELS: DEFAULT_SAMPLING_CONFIG.maxModelsPerWorker,
  DAPPLE_SHARE_LINK_MAX_ACTIVE_JOBS: DEFAULT_SAMPLING_CONFIG.shareLinkQuota.maxActiveJobs,
  DAPPLE_SHARE_LINK_JOBS_PER_HOUR: DEFAULT_SAMPLING_CONFIG.shareLinkQuota.maxJobsPerHour,
  DATASET_MAX_FILES_PER_UPLOAD: DEFAULT_DATASET_CONFIG.upload.maxFilesPerUpload,
  DATASET_MAX_FILE_BYTES: DEFAULT_DATASET_CONFIG.upload.maxFileBytes,
  DATASET_MAX_ARCHIVE_BYTES: DEFAULT_DATASET_CONFIG.upload.maxArchiveBytes,
  DATASET_MAX_UPLOAD_BYTES: DEFAULT_DATASET_CONFIG.upload.maxUploadBytes,
  DATASET_MAX_ARCHIVE_EXPANDED_BYTES: DEFAULT_DATASET_CONFIG.prepare.maxArchiveExpandedBytes,
  DATASET_MAX_ARCHIVE_ENTRIES: DEFAULT_DATASET_CONFIG.prepare.maxEntries,
  DATASET_MAX_COMPRESSION_RATIO: DEFAULT_DATASET_CONFIG.prepare.maxCompressionRatio,
  DATASET_MAX_IMAGE_PIXELS: DEFAULT_DATASET_CONFIG.prepare.maxImagePixels,
  DATASET_MULTIPART_THRESHOLD_BYTES: DEFAULT_DATASET_CONFIG.upload.multipartThresholdBytes,
  DATASET_PART_BYTES: DEFAULT_DATASET_CONFIG.upload.partBytes,
};

describe.each([
  ['Hub', HUB_ENV_VARS],
  ['Trainer', TRAINER_ENV_VARS],
  ['Dashboard', WEB_ENV_VARS],
  ['CLI', CLI_ENV_VARS],
])('docs/configuration.md, section %s', (heading, vars) => {
  it('lists exactly the variables the process reads, each with a default (— for none)', () => {
    const rows = table(heading);
    expect([...rows.keys()].sort()).toEqual([...vars].sort());
    expect([...rows].filter(([, cell]) => cell === '').map(([name]) => name)).toEqual([]);
  });
});

/** A default as docs/configuration.md writes it (`code`); undefined where none is applied. */
const shown = (value: unknown) =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : value === undefined
      ? undefined
      : JSON.stringify(value);

describe('documented defaults are the ones applied', () => {
  it('hub: env.ts defaults and the domain defaults it leaves unset', () => {
    const rows = table('Hub');
    const expected = HUB_ENV_VARS.map((name) => {
      const applied = hubDefaults[name] ?? domainDefaults[name];
      return [name, shown(applied)];
    });
    expect(HUB_ENV_VARS.map((name) => [name, codeDefault(rows.get(name))])).toEqual(expected);
  });

  it('dashboard: env.ts defaults', () => {
    const rows = table('Dashboard');
    const defaults = webEnvDefaults() as Record<string, unknown>;
    expect(WEB_ENV_VARS.map((name) => [name, codeDefault(rows.get(name))])).toEqual(
      WEB_ENV_VARS.map((name) => [name, shown(defaults[name])]),
    );
  });
});
