import { graphql } from '../tada';

// The upload protocol (apps/web/src/lib/upload): declare, send parts to signed URLs (renewed as they run out),
// resume after a reload, complete or abort.

/** Where and how to send one part; unmasked, so the result types carry the fields themselves. */
const UploadPartTargetFields = graphql(`
  fragment UploadPartTargetFields on UploadPartTarget @_unmask {
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
`);

export const CreateUploadMutation = graphql(
  `
    mutation CreateUpload($input: CreateUploadInput!) {
      createUpload(input: $input) {
        id
        datasetId
        totalBytes
        files {
          index
          path
          size
          parts {
            ...UploadPartTargetFields
          }
        }
      }
    }
  `,
  [UploadPartTargetFields],
);

export const CompleteUploadMutation = graphql(`
  mutation CompleteUpload($uploadId: ID!) {
    completeUpload(uploadId: $uploadId) {
      version {
        id
        number
        status
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

export const UploadPartUrlsMutation = graphql(
  `
    mutation UploadPartUrls($uploadId: ID!, $fileIndex: Int!, $partNumbers: [Int!]!) {
      uploadPartUrls(uploadId: $uploadId, fileIndex: $fileIndex, partNumbers: $partNumbers) {
        ...UploadPartTargetFields
      }
    }
  `,
  [UploadPartTargetFields],
);

export const AbortUploadMutation = graphql(`
  mutation AbortUpload($uploadId: ID!) {
    abortUpload(uploadId: $uploadId) {
      id
      status
    }
  }
`);
