import { eq } from 'drizzle-orm';
import pg from 'pg';
import type { Logger } from 'pino';
import { runs, type Db } from '@dapple/db';
import { PgListener } from '../../pg-listener.ts';
import { PubSub } from '../../pubsub.ts';
import type { RunSignals } from '../runs/index.ts';

/** Postgres channel of dataset changes, NOTIFYed by triggers (migration 0010_team_activity_notify). */
export const TEAM_ACTIVITY_CHANNEL = 'dapple_team_activity';

export type TeamActivityKind = 'run' | 'dataset';
export interface TeamActivityEvent {
  teamId: string;
  kind: TeamActivityKind;
  /** The run or dataset that changed (it may be gone: a deleted dataset). */
  id: string;
}

export const teamActivityChannel = (teamId: string) => `team:${teamId}:activity`;

/** Events for one (kind, id) inside this window go out once: a training run changes every few seconds. */
const COALESCE_MS = 250;
/** Run → team ids remembered (a run never changes team), so a busy run costs no lookup per heartbeat. */
const MAX_CACHED_RUNS = 10_000;

/**
 * "Something in this team's runs or datasets changed": what the dashboard's lists follow instead of
 * polling. Two feeds, both cross-hub through Postgres LISTEN/NOTIFY:
 *  - runs: every run change already goes through RunSignals (runUpdated); its onRunUpdated hook hears
 *    changes made on any hub, and the run's team is looked up once;
 *  - datasets: triggers on datasets / dataset_versions NOTIFY TEAM_ACTIVITY_CHANNEL with the team id;
 *    the LISTEN connection opens on the first subscriber.
 * Nothing is looked up or listened to while no one subscribes.
 */
export class TeamActivity {
  readonly pubsub = new PubSub<TeamActivityEvent>();
  private subscribers = 0;
  private readonly listener: PgListener;
  private readonly teamOfRun = new Map<string, string>();
  private readonly pending = new Map<string, TeamActivityEvent>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly offRunUpdated: () => void;

  constructor(
    private readonly db: Db,
    pool: pg.Pool,
    runSignals: RunSignals,
    private log?: Logger,
  ) {
    this.listener = new PgListener({
      pool,
      channel: TEAM_ACTIVITY_CHANNEL,
      name: 'dapple-hub-listen-team-activity',
      log: () => this.log,
      onMessage: (message) => {
        const event = message as TeamActivityEvent;
        if (typeof event.teamId === 'string' && typeof event.id === 'string' && event.kind === 'dataset')
          this.emitSoon(event);
      },
    });
    this.offRunUpdated = runSignals.onRunUpdated((runId) => {
      if (this.subscribers === 0) return;
      void this.runChanged(runId).catch((err: unknown) =>
        this.log?.warn({ err, runId }, 'could not relay a run change to team activity'),
      );
    });
  }

  /**
   * The team's events until `return()`; the caller has checked that the viewer may see the team.
   * Resolves once this hub LISTENs, so no change committed after it resolves is missed.
   */
  async subscribe(teamId: string): Promise<AsyncIterableIterator<TeamActivityEvent>> {
    await this.listen();
    this.subscribers++;
    const events = this.pubsub.subscribe(teamActivityChannel(teamId));
    let released = false;
    const release = () => {
      if (!released) this.subscribers--;
      released = true;
    };
    const iterator: AsyncIterableIterator<TeamActivityEvent> = {
      next: async () => {
        const r = await events.next();
        if (r.done) release();
        return r;
      },
      return: async () => {
        release();
        return (await events.return?.()) ?? { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  useLogger(log: Logger): void {
    this.log = log;
  }

  /** Subscribers right now (all teams); tests wait for it. */
  get subscriberCount(): number {
    return this.subscribers;
  }

  private async runChanged(runId: string): Promise<void> {
    let teamId = this.teamOfRun.get(runId);
    if (!teamId) {
      const [row] = await this.db.select({ teamId: runs.teamId }).from(runs).where(eq(runs.id, runId));
      if (!row) return;
      teamId = row.teamId;
      if (this.teamOfRun.size >= MAX_CACHED_RUNS) this.teamOfRun.delete(this.teamOfRun.keys().next().value!);
      this.teamOfRun.set(runId, teamId);
    }
    this.emitSoon({ teamId, kind: 'run', id: runId });
  }

  private emitSoon(event: TeamActivityEvent): void {
    this.pending.set(`${event.kind}:${event.id}`, event);
    this.flushTimer ??= setTimeout(() => this.flush(), COALESCE_MS);
  }

  private flush(): void {
    this.flushTimer = undefined;
    const events = [...this.pending.values()];
    this.pending.clear();
    for (const event of events) this.pubsub.publish(teamActivityChannel(event.teamId), event);
  }

  private listen(): Promise<void> {
    return this.listener.start();
  }

  async close(): Promise<void> {
    this.offRunUpdated();
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.listener.close();
  }
}
