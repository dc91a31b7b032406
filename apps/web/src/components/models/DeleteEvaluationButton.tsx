'use client';

import { useRouter } from 'next/navigation';
import { DeleteEvaluationMutation } from '../../graphql/operations/models';
import { request } from '../../lib/graphql';
import { ConfirmDelete } from '../ConfirmDelete';

/**
 * Deletes an ended evaluation (a mistaken reference dataset, a 10-sample trial), after saying what goes: its numbers
 * leave the page's tables. The page is drawn again without it.
 */
export function DeleteEvaluationButton({ id, what }: { id: string; what: string }) {
  const router = useRouter();
  return (
    <ConfirmDelete
      what={what}
      preview={() => Promise.resolve({ ok: true, frees: 'its numbers from every table (the model stays as it is)' })}
      remove={async () => {
        const result = await request(DeleteEvaluationMutation, { id });
        return result.ok ? null : (result.errors[0]?.message ?? 'Could not delete the evaluation');
      }}
      onDeleted={() => router.refresh()}
      testId="delete-evaluation"
    />
  );
}
