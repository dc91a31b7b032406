import { graphql } from '../tada';

export const CreateUploadMutation = graphql(`
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
    }
  }
`);

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
