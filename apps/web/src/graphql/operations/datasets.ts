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

export const DatasetQuery = graphql(`
  query Dataset($id: ID!) {
    dataset(id: $id) {
      id
      teamId
      name
      description
      resolution
      channels
      createdAt
      versions {
        id
        number
        status
        error
        contentHash
        createdAt
        preparedAt
        fileCount
        acceptedCount
        rejectedCount
        unlabeledCount
        previewUrl
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
`);

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
