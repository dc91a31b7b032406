'use client';

import { useRouter } from 'next/navigation';
import {
  DatasetStorageQuery,
  DeleteDatasetMutation,
  DeleteDatasetVersionMutation,
} from '../../graphql/operations/deletion';
import { request } from '../../lib/graphql';
import { ConfirmDelete, type DeletePreview } from '../ConfirmDelete';
import { formatBytes } from '../runs/run-status';

const objects = (s: { objects: number; bytes: number }) =>
  `${s.objects.toLocaleString('en')} stored object${s.objects === 1 ? '' : 's'}, ${formatBytes(s.bytes)}`;

async function storage(datasetId: string) {
  const result = await request(DatasetStorageQuery, { id: datasetId });
  return result.ok ? { ok: true as const, dataset: result.data.dataset } : { ok: false as const, result };
}

/** Deletes the whole dataset (every version and upload) after saying what it frees; then back to the list. */
export function DeleteDataset({ datasetId, name, teamSlug }: { datasetId: string; name: string; teamSlug: string }) {
  const router = useRouter();
  return (
    <ConfirmDelete
      what={`dataset ${name}`}
      buttonLabel="Delete dataset"
      testId="delete-dataset"
      preview={async (): Promise<DeletePreview> => {
        const s = await storage(datasetId);
        if (!s.ok) return { ok: false, message: s.result.errors[0]?.message ?? 'Could not read the dataset' };
        const versions = s.dataset.versions.length;
        return {
          ok: true,
          frees: `${versions} version${versions === 1 ? '' : 's'} and every upload: ${objects(s.dataset.stored)}. Runs trained on it keep their checkpoints but can no longer be resumed`,
        };
      }}
      remove={async () => {
        const result = await request(DeleteDatasetMutation, { id: datasetId });
        return result.ok ? null : (result.errors[0]?.message ?? 'Delete failed');
      }}
      onDeleted={() => {
        router.push(`/t/${teamSlug}/datasets`);
        router.refresh();
      }}
    />
  );
}

/** Deletes one version after saying what it frees; the page reloads. */
export function DeleteDatasetVersion({
  datasetId,
  versionId,
  number,
}: {
  datasetId: string;
  versionId: string;
  number: number;
}) {
  const router = useRouter();
  return (
    <ConfirmDelete
      what={`version ${number}`}
      testId={`delete-version-${number}`}
      preview={async (): Promise<DeletePreview> => {
        const s = await storage(datasetId);
        if (!s.ok) return { ok: false, message: s.result.errors[0]?.message ?? 'Could not read the dataset' };
        const version = s.dataset.versions.find((v) => v.id === versionId);
        if (!version) return { ok: false, message: `Version ${number} no longer exists` };
        return {
          ok: true,
          frees: `${version.acceptedCount.toLocaleString('en')} prepared images: ${objects(version.stored)}`,
        };
      }}
      remove={async () => {
        const result = await request(DeleteDatasetVersionMutation, { id: versionId });
        return result.ok ? null : (result.errors[0]?.message ?? 'Delete failed');
      }}
      onDeleted={() => router.refresh()}
    />
  );
}
