import type { Context } from '../context.ts';
import { type TeamActivityEvent, type TeamActivityKind } from '../../services/team-activity/index.ts';
import { builder } from '../builder.ts';

const TeamActivityKindEnum = builder.enumType('TeamActivityKind', {
  values: { RUN: { value: 'run' }, DATASET: { value: 'dataset' } } as const,
});

const TeamActivityRef = builder.objectRef<TeamActivityEvent>('TeamActivity').implement({
  description:
    'Something in a team changed: a run (created, status, progress, artifacts) or a dataset (created, deleted, a version added or changing status).',
  fields: (t) => ({
    teamId: t.exposeID('teamId'),
    kind: t.field({ type: TeamActivityKindEnum, resolve: (e) => e.kind }),
    id: t.exposeID('id', { description: 'The run or dataset that changed (a deleted dataset is gone by now).' }),
  }),
});

builder.subscriptionField('teamActivity', (t) =>
  t.field({
    type: TeamActivityRef,
    description:
      "Fires when one of the team's runs or datasets changes (what the dashboard's lists follow instead of polling); changes of one run or dataset within a quarter second come as one event. Works across hub instances (Postgres LISTEN/NOTIFY). Any member may subscribe; the stream ends once the viewer leaves the team.",
    authScopes: { authenticated: true },
    args: {
      teamId: t.arg.id({ required: true }),
      kinds: t.arg({ type: [TeamActivityKindEnum], required: false, description: 'Only these kinds (default: all).' }),
    },
    subscribe: async (_root, { teamId, kinds }, ctx) => {
      // Checked up front so a non-member gets a clean FORBIDDEN instead of a stream.
      await ctx.services.teams.requireTeamRole(ctx, String(teamId), 'viewer');
      ctx.streamAccess?.recheckWith((fresh) => fresh.services.teams.requireTeamRole(fresh, String(teamId), 'viewer'));
      const events = await ctx.services.teamActivity.subscribe(String(teamId));
      return whileMember(events, ctx, String(teamId), kinds ?? null);
    },
    resolve: (event) => event,
  }),
);

/**
 * Passes on the events of the wanted kinds while the viewer is still a member (re-checked per event, so
 * someone removed from the team stops seeing its activity). A plain iterator, not an async generator:
 * `return()` (unsubscribe) must detach the listener at once even while waiting.
 */
function whileMember(
  events: AsyncIterableIterator<TeamActivityEvent>,
  ctx: Context,
  teamId: string,
  kinds: readonly TeamActivityKind[] | null,
): AsyncIterableIterator<TeamActivityEvent> {
  let ended = false;
  const end = async (): Promise<IteratorResult<TeamActivityEvent>> => {
    ended = true;
    await events.return?.();
    return { value: undefined, done: true };
  };
  const iterator: AsyncIterableIterator<TeamActivityEvent> = {
    next: async () => {
      for (;;) {
        if (ended) return { value: undefined, done: true };
        const r = await events.next();
        if (r.done) return r;
        if (kinds && !kinds.includes(r.value.kind)) continue;
        const member = await ctx.services.teams.requireTeamRole(ctx, teamId, 'viewer').then(
          () => true,
          () => false,
        );
        return member ? r : end();
      }
    },
    return: end,
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
