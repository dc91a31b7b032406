import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Context, StreamCheck } from '../graphql/context.ts';
import type { Logger } from '../logger.ts';
import type { AccessChange } from '../services/auth/index.ts';

interface Guarded {
  userId: string | null;
  recheck(): void;
}

/**
 * Every open subscription stream, re-authorised when access changes (AccessEvents: a removed member, a revoked
 * token, a sign-out, a revoked share link…) and every `intervalMs` (what bounds anything missed: an expired
 * session, a lost notification). A stream whose check fails gets one last message with the error (UNAUTHENTICATED,
 * NOT_FOUND, FORBIDDEN…) and is completed.
 */
export class StreamGuards {
  private readonly open = new Set<Guarded>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly log: Logger,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => this.recheck({ all: true, reason: 'periodic re-check' }), intervalMs);
    this.timer.unref();
  }

  get size(): number {
    return this.open.size;
  }

  recheck(change: AccessChange): void {
    for (const g of this.open) if (change.all || (g.userId !== null && change.userIds?.includes(g.userId))) g.recheck();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /**
   * Wraps a subscription's event stream. `reidentify` builds a fresh context from the connection's credentials
   * (throws when they no longer hold); `check` is what the subscribe resolver registered, or none (then only the
   * credentials are re-checked).
   */
  guard(
    stream: AsyncGenerator<ExecutionResult> | AsyncIterableIterator<ExecutionResult>,
    opts: { userId: string | null; reidentify: () => Promise<Context>; check: StreamCheck | undefined },
  ): AsyncIterableIterator<ExecutionResult> {
    let revoked: ((error: GraphQLError) => void) | null = null;
    const revocation = new Promise<GraphQLError>((resolve) => (revoked = resolve));
    let ended = false;
    let checking: Promise<void> | null = null;
    let again = false;
    const runCheck = async () => {
      try {
        const ctx = await opts.reidentify();
        await opts.check?.(ctx);
      } catch (err) {
        this.log.info({ err: (err as Error).message }, 'live stream ended: access no longer holds');
        revoked?.(
          err instanceof GraphQLError ? err : new GraphQLError((err as Error).message, { originalError: err as Error }),
        );
      }
    };
    const guarded: Guarded = {
      userId: opts.userId,
      recheck: () => {
        if (ended) return;
        // One check at a time; a change arriving meanwhile is checked again afterwards.
        if (checking) {
          again = true;
          return;
        }
        checking = runCheck().finally(() => {
          checking = null;
          if (again) {
            again = false;
            guarded.recheck();
          }
        });
      },
    };
    this.open.add(guarded);
    const inner = stream as AsyncIterableIterator<ExecutionResult>;
    const finish = async (): Promise<IteratorResult<ExecutionResult>> => {
      ended = true;
      this.open.delete(guarded);
      await inner.return?.();
      return { value: undefined, done: true };
    };
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      next: async () => {
        if (ended) return { value: undefined, done: true };
        const winner = await Promise.race([
          inner.next().then((r) => ({ kind: 'event' as const, r })),
          revocation.then((error) => ({ kind: 'revoked' as const, error })),
        ]);
        if (winner.kind === 'event') {
          if (winner.r.done) return finish();
          if (ended) return finish(); // revoked while this event was being produced
          return winner.r;
        }
        await finish();
        return { value: { errors: [winner.error] }, done: false };
      },
      return: finish,
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}
