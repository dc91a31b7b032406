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

/**
 * The presets with the defaults they resolve to on a dataset version (its resolution, conditioning from its labels):
 * the new-run form's preset choice and the values its advanced fields fall back to.
 */
export const RunPresetsQuery = graphql(`
  query RunPresets($datasetVersionId: ID) {
    runPresets(datasetVersionId: $datasetVersionId) {
      architecture
      preset
      description
      resolution
      parameters
      error
      defaults {
        steps
        batchSize
        lr
        sampleEvery
        checkpointEvery
        labelDropout
        conditioning
        numClasses
        heldOutEvery
      }
    }
  }
`);

/** The new-run form's datasets: ready versions with their labels (class conditioning is the default from 2 labels). */
export const StartRunDatasetsQuery = graphql(`
  query StartRunDatasets($teamId: ID!) {
    datasets(teamId: $teamId) {
      id
      name
      resolution
      channels
      versions {
        id
        number
        status
        acceptedCount
        labels {
          label
          count
        }
      }
    }
  }
`);

/** A model version to fine-tune: its network (training config in configJson) and what it was trained on. */
export const FineTuneBaseQuery = graphql(`
  query FineTuneBase($id: ID!) {
    modelVersion(id: $id) {
      id
      number
      resolution
      channels
      labelNames
      configJson
      model {
        id
        name
      }
    }
  }
`);
