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
