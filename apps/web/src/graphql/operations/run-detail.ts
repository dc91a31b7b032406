import { graphql, readFragment, type FragmentOf, type ResultOf } from '../tada';

// Everything the run page shows that changes as the run moves: the query loads it, runUpdated pushes it again.
// Not exported as a document: the operations test checks whole operations (a lone fragment is not one).
const RunDetailFields = graphql(`
  fragment RunDetailFields on Run {
    id
    name
    teamId
    status
    attempt
    maxAttempts
    events {
      attempt
      fromStatus
      toStatus
    }
    error
    cancelRequested
    seed
    priority
    executor
    parentRunId
    fromStep
    datasetVersionId
    baseModelVersionId
    baseModelVersion {
      id
      number
      model {
        id
        name
      }
    }
    createdAt
    queuedAt
    startedAt
    finishedAt
    metricKeys
    progress {
      step
      totalSteps
      fraction
      imagesPerSec
      etaSeconds
    }
    checkpoints {
      step
      sizeBytes
      createdAt
    }
    sampleGrids {
      step
      url
      width
      height
      seeds
      createdAt
    }
    config {
      preset
      json
      steps
      batchSize
      lr
      lrDecay
      warmupSteps
      clipNorm
      optimizer
      schedule
      prediction
      timesteps
      conditioning
      numClasses
      sampleCount
      sampleSeed
      labelDropout
      emaDecay
      sampleEvery
      checkpointEvery
      model {
        resolution
        baseChannels
      }
    }
  }
`);

export type RunDetail = ResultOf<typeof RunDetailFields>;

/** Unmasks the run fields of a RunDetail query or RunUpdated event. */
export function readRunDetail(run: FragmentOf<typeof RunDetailFields>): RunDetail {
  return readFragment(RunDetailFields, run);
}

export const RunDetailQuery = graphql(
  `
    query RunDetail($id: ID!) {
      run(id: $id) {
        ...RunDetailFields
      }
    }
  `,
  [RunDetailFields],
);

export const RunDatasetVersionQuery = graphql(`
  query RunDatasetVersion($id: ID!) {
    datasetVersion(id: $id) {
      id
      number
      contentHash
      acceptedCount
      labels {
        id
        label
      }
    }
  }
`);

/** A compared run's sample grids and what labels them (the compare view shows them beside this run's). */
export const RunGridsQuery = graphql(`
  query RunGrids($id: ID!) {
    run(id: $id) {
      id
      name
      datasetVersionId
      config {
        conditioning
        numClasses
        sampleCount
        sampleSeed
      }
      sampleGrids {
        step
        url
        width
        height
        seeds
      }
    }
  }
`);

export const RunMetricsQuery = graphql(`
  query RunMetrics($id: ID!, $keys: [String!]!, $maxPoints: Int, $fromStep: Int, $toStep: Int) {
    run(id: $id) {
      id
      metrics(keys: $keys, maxPoints: $maxPoints, fromStep: $fromStep, toStep: $toStep) {
        key
        bucketWidth
        points {
          step
          mean
          last
          lastStep
        }
      }
    }
  }
`);

export const RunLogsQuery = graphql(`
  query RunLogs($id: ID!, $tail: Int) {
    run(id: $id) {
      id
      logs(tail: $tail) {
        at
        attempt
        stream
        line
      }
    }
  }
`);

export const CompareRunsQuery = graphql(`
  query CompareRuns($teamId: ID!) {
    runs(teamId: $teamId, first: 50) {
      nodes {
        id
        name
        status
      }
    }
  }
`);

export const RunUpdatedSubscription = graphql(
  `
    subscription RunUpdated($id: ID!) {
      runUpdated(id: $id) {
        ...RunDetailFields
      }
    }
  `,
  [RunDetailFields],
);

export const RunMetricsLiveSubscription = graphql(`
  subscription RunMetricsLive($id: ID!, $keys: [String!]!, $sinceStep: Int) {
    runMetrics(id: $id, keys: $keys, sinceStep: $sinceStep) {
      runId
      points {
        key
        step
        value
      }
    }
  }
`);

export const ResumeRunMutation = graphql(`
  mutation ResumeRun($id: ID!) {
    resumeRun(id: $id) {
      id
      status
    }
  }
`);

export const ForkRunMutation = graphql(`
  mutation ForkRun($input: ForkRunInput!) {
    forkRun(input: $input) {
      id
      name
      status
    }
  }
`);

export const PublishCheckpointMutation = graphql(`
  mutation PublishCheckpoint($input: PublishModelInput!) {
    publishModel(input: $input) {
      model {
        id
        name
      }
      version {
        id
        number
      }
    }
  }
`);

/**
 * A compared run's evaluated model versions (the compare view's Evaluations table): each version published from
 * it that the viewer may read, with its finished evaluations, and the run's last held-out bits/dim and images/s.
 */
export const RunEvaluationsQuery = graphql(`
  query RunEvaluations($id: ID!) {
    run(id: $id) {
      id
      name
      config {
        architecture
      }
      metrics(keys: ["held_out_bits_per_dim", "images_per_sec"], maxPoints: 1) {
        key
        points {
          last
          lastStep
        }
      }
      publishedModelVersions {
        id
        number
        step
        architecture
        model {
          id
          name
        }
        evaluations(status: SUCCEEDED) {
          id
          comparableKey
          extractor
          numSamples
          datasetVersionHash
          sampler
          steps
          eta
          guidance
          labelSet
          kid {
            mean
            std
          }
          kidSubsetsDiffer
          fid
          sampleAccuracy {
            accuracy
            chance
          }
        }
      }
    }
  }
`);
