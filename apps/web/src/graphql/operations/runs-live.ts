import { graphql } from '../tada';

// Live updates for the runs and datasets lists and for runs overlaid on the run page's charts.

export const TeamActivitySubscription = graphql(`
  subscription TeamActivity($teamId: ID!, $kinds: [TeamActivityKind!]) {
    teamActivity(teamId: $teamId, kinds: $kinds) {
      teamId
      kind
      id
    }
  }
`);

/** Only the status of a compared run: enough to know when it stops reporting. */
export const ComparedRunStatusSubscription = graphql(`
  subscription ComparedRunStatus($id: ID!) {
    runUpdated(id: $id) {
      id
      status
    }
  }
`);
