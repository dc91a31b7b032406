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

/** What of an upload arrived, to resume it after a reload: the client sends only the parts not listed. */
export const UploadStateQuery = graphql(`
  query UploadState($id: ID!) {
    upload(id: $id) {
      id
      datasetId
      status
      expiresAt
      totalBytes
      files {
        index
        path
        size
        multipart
        partSize
        partCount
        received
        receivedParts
      }
    }
  }
`);

export const UploadPartUrlsMutation = graphql(`
  mutation UploadPartUrls($uploadId: ID!, $fileIndex: Int!, $partNumbers: [Int!]!) {
    uploadPartUrls(uploadId: $uploadId, fileIndex: $fileIndex, partNumbers: $partNumbers) {
      partNumber
      method
      url
      size
      expiresAt
      headers {
        name
        value
      }
    }
  }
`);

export const AbortUploadMutation = graphql(`
  mutation AbortUpload($uploadId: ID!) {
    abortUpload(uploadId: $uploadId) {
      id
      status
    }
  }
`);
