'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { DeleteRunMutation, RunStorageQuery } from '../../graphql/operations/deletion';
import { request } from '../../lib/graphql';
import { ConfirmDelete } from '../ConfirmDelete';
import { formatBytes } from './run-status';

const plural = (n: number, one: string) => `${n.toLocaleString('en')} ${one}${n === 1 ? '' : 's'}`;

/** Deletes a finished run after saying what it frees; blocked while model versions published from it exist. */
export function DeleteRun({ runId, runName, teamSlug }: { runId: string; runName: string; teamSlug: string }) {
  const router = useRouter();
  return (
    <ConfirmDelete
      what={`run ${runName}`}
      buttonLabel="Delete run"
      testId="delete-run"
      preview={async () => {
        const result = await request(RunStorageQuery, { id: runId });
        if (!result.ok) return { ok: false, message: result.errors[0]?.message ?? 'Could not read the run' };
        const { storage, publishedVersions } = result.data.run;
        return {
          ok: true,
          frees: `${plural(storage.checkpoints, 'checkpoint')}, ${plural(storage.sampleGrids, 'sample grid')} and its metrics and logs: ${plural(storage.objects, 'stored object')}, ${formatBytes(storage.bytes)}`,
          ...(publishedVersions.length > 0
            ? {
                blockedBy: (
                  <>
                    It cannot be deleted while model versions published from it exist:{' '}
                    {publishedVersions.map((v, i) => (
                      <span key={`${v.modelId}-${v.versionNumber}`}>
                        {i > 0 ? ', ' : ''}
                        <Link href={`/t/${teamSlug}/models/${v.modelId}?v=${v.versionNumber}`}>
                          {v.modelName} v{v.versionNumber}
                        </Link>
                      </span>
                    ))}
                    . Delete those versions first (they keep their own copy of the weights).
                  </>
                ),
              }
            : {}),
        };
      }}
      remove={async () => {
        const result = await request(DeleteRunMutation, { id: runId });
        return result.ok ? null : (result.errors[0]?.message ?? 'Delete failed');
      }}
      onDeleted={() => {
        router.push(`/t/${teamSlug}/runs`);
        router.refresh();
      }}
    />
  );
}
