import Link from 'next/link';
import { ChartIcon, CubeIcon } from '../Icons';

/** What a team without models sees: models come from publishing a run's checkpoint. */
export function NoModels({ teamSlug }: { teamSlug: string }) {
  return (
    <div className="card empty">
      <span className="empty-icon">
        <CubeIcon size={22} />
      </span>
      <h3>No models yet</h3>
      <p>
        Publish a checkpoint of a run to make it a model your team can sample from and share: open a run, pick a
        checkpoint and choose “Publish”. From the command line:{' '}
        <code className="mono">dapple models publish &lt;run&gt; --step &lt;step&gt;</code>.
      </p>
      <Link href={`/t/${teamSlug}/runs`} className="btn btn-secondary btn-sm">
        <ChartIcon /> Go to runs
      </Link>
    </div>
  );
}
