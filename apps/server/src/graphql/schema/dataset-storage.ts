import { datasetKeys } from '../../services/datasets/index.ts';
import { builder } from '../builder.ts';
import { DatasetRef, DatasetVersionRef } from './datasets.ts';

// What a dataset or one version keeps in the object store: what deleting it frees (the delete dialogs show it).
// Lists the store under the prefix: ask for it on one dataset, not in lists.

const StoredRef = builder.objectRef<{ objects: number; bytes: number }>('StoredObjects').implement({
  description: 'Objects and bytes kept in the object store under one prefix.',
  fields: (t) => ({
    objects: t.exposeInt('objects'),
    bytes: t.exposeFloat('bytes', { description: 'Total size in bytes (a Float: may exceed 2^31).' }),
  }),
});

builder.objectFields(DatasetVersionRef, (t) => ({
  stored: t.field({
    type: StoredRef,
    description: 'What the version keeps in the store (manifest, shards, thumbnails): what deleting it frees.',
    resolve: (p, _a, ctx) => storedUnder(ctx, datasetKeys.version(p.dataset.id, p.version.number)),
  }),
}));

builder.objectFields(DatasetRef, (t) => ({
  stored: t.field({
    type: StoredRef,
    description: 'What the dataset keeps in the store (every version and upload): what deleting it frees.',
    resolve: (d, _a, ctx) => storedUnder(ctx, datasetKeys.dataset(d.id)),
  }),
}));

async function storedUnder(
  ctx: { services: { objectStore: { list(prefix: string): AsyncIterable<{ size: number }> } } },
  prefix: string,
): Promise<{ objects: number; bytes: number }> {
  let objects = 0;
  let bytes = 0;
  for await (const o of ctx.services.objectStore.list(prefix)) {
    objects += 1;
    bytes += o.size;
  }
  return { objects, bytes };
}
