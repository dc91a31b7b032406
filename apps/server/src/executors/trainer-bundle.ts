import { randomUUID } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { REPLICA_WORKER_BUNDLE_FILE } from '@dapple/models/parallel';
import { build, type Plugin } from 'esbuild';

/**
 * The trainer as one JavaScript file of our own code (apps/trainer/dist/trainer.mjs), for the local executor to
 * start with plain `node`. Started from its TypeScript source through tsx, a trainer spent ~2.4 CPU-s and ~1.7 s
 * before its first line of work (tsx's loader thread transforming and resolving ~170 files of ours); from the
 * bundle, ~1.2 CPU-s and ~1.0 s with source maps on (bench/trainer-start.ts, this 2-core machine, idle). Third-party packages stay outside it (`import` from
 * node_modules as before: native addons, wasm files and optional packages resolve as they always did), so the
 * bundle lives beside the source in the repository and takes ~0.35 s to build.
 *
 * Built on the first launch, and again before a launch whenever one of its source files changed since: a hub left
 * running while the trainer's code is edited starts the new code, as it did from source. The data-parallel replica
 * thread's entry is bundled beside it (parallel/spawn.ts starts that file when it is there).
 */
export interface TrainerBundle {
  /** The trainer's entry: `node <main> --run-id=…`. */
  main: string;
  /** When it was built, and from which files (to tell when it is stale). */
  builtAt: number;
  inputs: string[];
}

export interface TrainerBundleSources {
  /** apps/trainer/src/main.ts */
  main: string;
  /** packages/models/src/parallel/worker.ts */
  replicaWorker: string;
  /** Where the bundle goes (apps/trainer/dist). */
  outDir: string;
  /** Where relative input paths in esbuild's metafile start (the repository root). */
  root: string;
}

/** The trainer's file inside outDir; the replica thread's (REPLICA_WORKER_BUNDLE_FILE) is spawn.ts' to name. */
export const TRAINER_BUNDLE_FILE = 'trainer.mjs';

/** Everything but the workspace's own packages (and relative imports) stays an import from node_modules. */
const thirdPartyExternal: Plugin = {
  name: 'third-party-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@dapple/') ? undefined : { path: args.path, external: true },
    );
  },
};

const withoutExtension = (file: string) => file.replace(/\.mjs$/, '');

export async function buildTrainerBundle(sources: TrainerBundleSources): Promise<TrainerBundle> {
  const builtAt = Date.now();
  const result = await build({
    entryPoints: [
      { in: sources.main, out: withoutExtension(TRAINER_BUNDLE_FILE) },
      { in: sources.replicaWorker, out: withoutExtension(REPLICA_WORKER_BUNDLE_FILE) },
    ],
    outdir: sources.outDir,
    absWorkingDir: sources.root,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Stack traces of a failed run name the source files and lines.
    sourcemap: 'inline',
    metafile: true,
    write: false,
    logLevel: 'silent',
    plugins: [thirdPartyExternal],
  });
  await mkdir(sources.outDir, { recursive: true });
  // Write each file under a temporary name and rename it into place: another hub on this checkout (tests run
  // several) may be building the same files, and a trainer starting meanwhile must never read half a file.
  for (const file of result.outputFiles) {
    const temporary = `${file.path}.${randomUUID()}.tmp`;
    await writeFile(temporary, file.contents);
    await rename(temporary, file.path);
  }
  return {
    main: join(sources.outDir, TRAINER_BUNDLE_FILE),
    builtAt,
    inputs: Object.keys(result.metafile.inputs).map((p) => resolve(sources.root, p)),
  };
}

/** True when the bundle file is gone or any of its inputs was modified (or removed) after it was built. */
export async function isStale(bundle: TrainerBundle): Promise<boolean> {
  const mtimes = await Promise.all(
    [bundle.main, ...bundle.inputs].map((p) =>
      stat(p).then(
        (s) => s.mtimeMs,
        () => Infinity,
      ),
    ),
  );
  const [bundleFile, ...inputs] = mtimes;
  return bundleFile === Infinity || inputs.some((m) => m >= bundle.builtAt);
}

/**
 * The bundle, built on first use and rebuilt when stale; concurrent callers share one build. A build that fails
 * (e.g. a syntax error in an edited file) rejects, and the next call tries again.
 */
export function trainerBundler(sources: TrainerBundleSources): () => Promise<TrainerBundle> {
  let built: Promise<TrainerBundle> | undefined;
  let inFlight: Promise<TrainerBundle> | undefined;
  const current = async (): Promise<TrainerBundle> => {
    try {
      const known = built ? await built.catch(() => undefined) : undefined;
      if (known && !(await isStale(known))) return known;
      built = buildTrainerBundle(sources);
      return await built;
    } finally {
      inFlight = undefined;
    }
  };
  return () => (inFlight ??= current());
}
