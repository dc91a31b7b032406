/**
 * Pending work of several teams: FIFO within a team, round-robin between teams, and at most
 * `perTeamLimit` running items per team. The next free slot goes to the team served least recently
 * (a team never served first; ties by the arrival of their oldest item), so a team that floods the
 * queue delays only itself and three teams submitting at once alternate A, B, C, A, B, C…
 */
export interface QueuedItem {
  id: string;
  teamId: string;
}

interface Entry<T> {
  item: T;
  seq: number;
}

export class FairQueue<T extends QueuedItem> {
  private readonly queues = new Map<string, Entry<T>[]>();
  private readonly running = new Map<string, number>();
  /** Serve counter value when each team last started an item. */
  private readonly lastServed = new Map<string, number>();
  private served = 0;
  private seq = 0;

  constructor(private readonly perTeamLimit: number) {
    if (!Number.isInteger(perTeamLimit) || perTeamLimit < 1)
      throw new RangeError(`perTeamLimit must be a positive integer, got ${perTeamLimit}`);
  }

  get size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Items of one team waiting. */
  queuedFor(teamId: string): number {
    return this.queues.get(teamId)?.length ?? 0;
  }

  push(item: T): void {
    let q = this.queues.get(item.teamId);
    if (!q) this.queues.set(item.teamId, (q = []));
    q.push({ item, seq: this.seq++ });
  }

  /** Takes the next item to run (and counts it as running), or null when nothing may start now. */
  take(): T | null {
    const teamId = this.pick(this.queues, this.lastServed, (t) => (this.running.get(t) ?? 0) < this.perTeamLimit);
    if (teamId === null) return null;
    const q = this.queues.get(teamId)!;
    const { item } = q.shift()!;
    if (!q.length) this.queues.delete(teamId);
    this.running.set(teamId, (this.running.get(teamId) ?? 0) + 1);
    this.lastServed.set(teamId, this.served++);
    return item;
  }

  /** A running item of the team finished: frees its slot. */
  done(teamId: string): void {
    const n = (this.running.get(teamId) ?? 0) - 1;
    if (n > 0) this.running.set(teamId, n);
    else this.running.delete(teamId);
  }

  /** Removes a queued item (cancelled) and returns it; null when it was not queued. */
  remove(id: string): T | null {
    for (const [teamId, q] of this.queues) {
      const i = q.findIndex((e) => e.item.id === id);
      if (i < 0) continue;
      const [removed] = q.splice(i, 1);
      if (!q.length) this.queues.delete(teamId);
      return removed!.item;
    }
    return null;
  }

  /** Every queued item in the order it will start if nothing else arrives (limits only delay, they do not reorder). */
  order(): T[] {
    const queues = new Map([...this.queues].map(([t, q]) => [t, [...q]]));
    const lastServed = new Map(this.lastServed);
    let served = this.served;
    const out: T[] = [];
    for (;;) {
      const teamId = this.pick(queues, lastServed, () => true);
      if (teamId === null) return out;
      const q = queues.get(teamId)!;
      out.push(q.shift()!.item);
      if (!q.length) queues.delete(teamId);
      lastServed.set(teamId, served++);
    }
  }

  /** 0-based position of a queued item in order(), or null when it is not queued here. */
  position(id: string): number | null {
    const i = this.order().findIndex((item) => item.id === id);
    return i < 0 ? null : i;
  }

  private pick(
    queues: Map<string, Entry<T>[]>,
    lastServed: Map<string, number>,
    eligible: (teamId: string) => boolean,
  ): string | null {
    let best: string | null = null;
    let bestKey: [number, number] = [Infinity, Infinity];
    for (const [teamId, q] of queues) {
      if (!q.length || !eligible(teamId)) continue;
      const key: [number, number] = [lastServed.get(teamId) ?? -1, q[0]!.seq];
      if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
        best = teamId;
        bestKey = key;
      }
    }
    return best;
  }
}
