import Link from 'next/link';
import { ChartIcon, ImagesIcon, PlayIcon, UploadIcon } from './Icons';

// What an empty team sees, and what to do next.

/** For pages a viewer opens that would change something: says why nothing is offered. */
export function ViewerCannot({ teamName, action }: { teamName: string; action: string }) {
  return (
    <div className="card empty" role="note">
      <h3>Viewers cannot {action}</h3>
      <p>
        You are a viewer in {teamName}: you see everything and change nothing. Ask a team admin for the Member role.
      </p>
    </div>
  );
}

export function NoDatasets({ teamSlug, canCreate = true }: { teamSlug: string; canCreate?: boolean }) {
  return (
    <div className="empty">
      <span className="empty-icon">
        <ImagesIcon size={22} />
      </span>
      <h3>No datasets yet</h3>
      <p>Upload a folder of images to train on; one sub-folder per class gives them labels.</p>
      {canCreate ? (
        <Link href={`/t/${teamSlug}/datasets/new`} className="btn btn-primary btn-sm">
          <UploadIcon /> Upload a dataset
        </Link>
      ) : null}
    </div>
  );
}

export function NoRuns({ teamSlug, canCreate = true }: { teamSlug: string; canCreate?: boolean }) {
  return (
    <div className="empty">
      <span className="empty-icon">
        <ChartIcon size={22} />
      </span>
      <h3>No runs yet</h3>
      <p>Start a run on a prepared dataset and follow its progress here.</p>
      {canCreate ? (
        <Link href={`/t/${teamSlug}/runs/new`} className="btn btn-secondary btn-sm">
          <PlayIcon /> Start a run
        </Link>
      ) : null}
    </div>
  );
}
