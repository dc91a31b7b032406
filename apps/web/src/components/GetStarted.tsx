import Link from 'next/link';
import { CheckIcon, PlayIcon, UploadIcon, UsersIcon } from './Icons';

/**
 * The team home's three first steps, each marked done once the team has done it (a dataset, a run, a second
 * member), with the next step's button as the primary one. Gone once all three are done: the lists below it are
 * then what the page is for.
 */
export function GetStarted({
  teamSlug,
  canCreate,
  canInvite,
  datasets,
  runs,
  members,
}: {
  teamSlug: string;
  canCreate: boolean;
  canInvite: boolean;
  datasets: number;
  /** Runs the page loaded (it may load only the newest few: only whether there is one counts). */
  runs: number;
  members: number;
}) {
  const done = [datasets > 0, runs > 0, members > 1];
  if (done.every(Boolean)) return null;
  const next = done.indexOf(false);
  const button = (i: number) => `btn btn-sm ${i === next ? 'btn-primary' : 'btn-secondary'}`;
  const marker = (i: number) =>
    done[i] ? (
      <span className="step-num step-done" aria-label="Done" data-testid={`get-started-done-${i + 1}`}>
        <CheckIcon />
      </span>
    ) : (
      <span className="step-num">{i + 1}</span>
    );
  const count = (n: number, one: string, many: string) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
  return (
    <section className="card" aria-labelledby="get-started">
      <div className="card-header">
        <div>
          <h2 id="get-started">Get started</h2>
          <p className="muted">
            Three steps from a folder of images to your own model · {done.filter(Boolean).length} of 3 done.
          </p>
        </div>
      </div>
      <div className="steps card-body">
        <div className="step card">
          {marker(0)}
          <h3>Upload a dataset</h3>
          <p>
            {done[0]
              ? `This team has ${count(datasets, 'dataset', 'datasets')}.`
              : 'Drop a folder of images. Dapple checks, de-duplicates and resizes them, and shows what it rejected and why.'}
          </p>
          {canCreate ? (
            <Link href={`/t/${teamSlug}/datasets/new`} className={button(0)}>
              <UploadIcon /> Upload a dataset
            </Link>
          ) : null}
        </div>
        <div className="step card">
          {marker(1)}
          <h3>Start a run</h3>
          <p>
            {done[1]
              ? 'Recent runs are listed below: open one to watch its loss curve and sample grids.'
              : 'Pick a preset, start training, and watch the loss curve and sample grids update live.'}
          </p>
          {canCreate ? (
            <Link href={`/t/${teamSlug}/runs/new`} className={button(1)}>
              <PlayIcon /> Start a run
            </Link>
          ) : null}
        </div>
        <div className="step card">
          {marker(2)}
          <h3>Invite your team</h3>
          <p>Share results, compare runs and sample from each other’s models.</p>
          <Link href={`/t/${teamSlug}/members`} className={canInvite ? button(2) : 'btn btn-secondary btn-sm'}>
            <UsersIcon /> {canInvite ? 'Invite members' : 'See members'}
          </Link>
        </div>
      </div>
    </section>
  );
}
