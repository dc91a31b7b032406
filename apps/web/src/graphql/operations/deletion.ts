import { graphql } from '../tada';

// Deleting runs, datasets and dataset versions: what each frees (asked when a delete dialog opens) and the deletes.

export const RunStorageQuery = graphql(`
  query RunStorage($id: ID!) {
    run(id: $id) {
      id
      storage {
        checkpoints
        sampleGrids
        objects
        bytes
      }
      publishedVersions {
        modelId
        modelName
        versionNumber
      }
    }
  }
`);

export const DeleteRunMutation = graphql(`
  mutation DeleteRun($id: ID!) {
    deleteRun(id: $id) {
      objects
      bytes
    }
  }
`);

export const DatasetStorageQuery = graphql(`
  query DatasetStorage($id: ID!) {
    dataset(id: $id) {
      id
      stored {
        objects
        bytes
      }
      versions {
        id
        number
        acceptedCount
        stored {
          objects
          bytes
        }
      }
    }
  }
`);

export const DeleteDatasetMutation = graphql(`
  mutation DeleteDataset($id: ID!) {
    deleteDataset(id: $id)
  }
`);

export const DeleteDatasetVersionMutation = graphql(`
  mutation DeleteDatasetVersion($id: ID!) {
    deleteDatasetVersion(id: $id) {
      id
    }
  }
`);
