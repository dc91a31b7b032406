import type { PublishedFrom, RunStorage } from '../../services/runs/index.ts';
import { builder } from '../builder.ts';
import { RunRef } from './runs.ts';

// Deleting runs, in its own file: what a run keeps in the store (what deleting it frees), what blocks it, and
// the mutation.

const RunStorageRef = builder.objectRef<RunStorage>('RunStorage').implement({
  description: 'What a run keeps in the object store: what deleteRun frees.',
  fields: (t) => ({
    checkpoints: t.exposeInt('checkpoints'),
    sampleGrids: t.exposeInt('sampleGrids'),
    objects: t.exposeInt('objects', { description: 'Every object under runs/<id>/.' }),
    bytes: t.exposeFloat('bytes', { description: 'Their total size in bytes (a Float: may exceed 2^31).' }),
  }),
});

const PublishedFromRef = builder.objectRef<PublishedFrom>('RunPublishedVersion').implement({
  description: 'A model version published from a run (it blocks deleting the run).',
  fields: (t) => ({
    modelId: t.exposeID('modelId'),
    modelName: t.exposeString('modelName'),
    versionNumber: t.exposeInt('versionNumber'),
  }),
});

builder.objectFields(RunRef, (t) => ({
  storage: t.field({
    type: RunStorageRef,
    description: 'Objects and bytes the run keeps (lists the store: ask for it on one run, not in lists).',
    resolve: (run, _a, ctx) => ctx.services.runDeletion.storage(run),
  }),
  publishedVersions: t.field({
    type: [PublishedFromRef],
    description: 'Model versions published from this run; while any exists, deleteRun is refused.',
    resolve: (run, _a, ctx) => ctx.services.runDeletion.publishedFrom(run.id),
  }),
}));

builder.mutationFields((t) => ({
  deleteRun: t.field({
    type: RunStorageRef,
    description:
      'Deletes a finished run: its checkpoints, sample grids and every stored object, its metrics, logs and events; ' +
      'returns what was freed. The run’s creator or a team admin/owner. CONFLICT while the run is queued or active ' +
      '(cancel it first) and while model versions published from it exist (delete those first: they keep their own ' +
      'copy of the weights). Runs forked from it keep their own checkpoints and lose only the link.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.runDeletion.delete(ctx, String(id)),
  }),
}));
