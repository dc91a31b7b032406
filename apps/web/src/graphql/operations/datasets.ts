import { graphql } from '../tada';

export const TeamDatasetsQuery = graphql(`
  query TeamDatasets($teamId: ID!) {
    datasets(teamId: $teamId) {
      id
      name
      description
      resolution
      channels
      createdAt
      versions {
        id
        number
        status
        fileCount
        acceptedCount
        rejectedCount
        previewUrl
        createdAt
      }
    }
  }
`);
