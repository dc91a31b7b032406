import { graphql } from '../tada';

/** A dataset and its versions as the dataset list shows them (the dataset page asks for more of each version). */
const DatasetSummaryFields = graphql(`
  fragment DatasetSummaryFields on Dataset @_unmask {
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
`);

export const TeamDatasetsQuery = graphql(
  `
    query TeamDatasets($teamId: ID!) {
      datasets(teamId: $teamId) {
        ...DatasetSummaryFields
      }
    }
  `,
  [DatasetSummaryFields],
);

export const DatasetQuery = graphql(
  `
    query Dataset($id: ID!) {
      dataset(id: $id) {
        ...DatasetSummaryFields
        teamId
        versions {
          error
          contentHash
          preparedAt
          unlabeledCount
          labels {
            id
            label
            count
          }
          rejectedByReason {
            reason
            count
          }
        }
      }
    }
  `,
  [DatasetSummaryFields],
);

export const RejectedFilesQuery = graphql(`
  query RejectedFiles($versionId: ID!, $first: Int) {
    datasetFiles(versionId: $versionId, status: REJECTED, first: $first) {
      hasNextPage
      nodes {
        path
        size
        rejectReason
        rejectDetail
      }
    }
  }
`);
