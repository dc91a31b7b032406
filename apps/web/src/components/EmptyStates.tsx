import Link from 'next/link';
import { ChartIcon, ImagesIcon, PlayIcon, UploadIcon } from './Icons';

// What an empty team sees, and what to do next.

export function NoDatasets({ teamSlug }: { teamSlug: string }) {
  return (
    <div className="empty">
      <span className="empty-icon">
        <ImagesIcon size={22} />
      </span>
      <h3>No datasets yet</h3>
      <p>Upload a folder of images to train on; one sub-folder per class gives them labels.</p>
      <Link href={`/t/${teamSlug}/datasets/new`} className="btn btn-primary btn-sm">
        <UploadIcon /> Upload a dataset
      </Link>
    </div>
  );
}

export function NoRuns({ teamSlug }: { teamSlug: string }) {
  return (
    <div className="empty">
      <span className="empty-icon">
        <ChartIcon size={22} />
      </span>
      <h3>No runs yet</h3>
      <p>Start a run on a prepared dataset and follow its progress here.</p>
      <Link href={`/t/${teamSlug}/runs/new`} className="btn btn-secondary btn-sm">
        <PlayIcon /> Start a run
      </Link>
    </div>
  );
}
