import { graphql } from '../tada';

export const TeamRunsQuery = graphql(`
  query TeamRuns($teamId: ID!, $first: Int) {
    runs(teamId: $teamId, first: $first) {
      nodes {
        id
        name
        status
        createdAt
        config {
          preset
        }
        progress {
          fraction
          step
          totalSteps
          etaSeconds
        }
      }
    }
  }
`);

export const StartRunMutation = graphql(`
  mutation StartRun($input: StartRunInput!) {
    startRun(input: $input) {
      id
      name
      status
    }
  }
`);

export const CancelRunMutation = graphql(`
  mutation CancelRun($id: ID!) {
    cancelRun(id: $id) {
      id
      status
    }
  }
`);
