import { graphql, readFragment, type FragmentOf, type ResultOf } from '../tada';

/** What the playground shows of a server sample job: one selection for the mutation, the query and the subscription. */
const SampleJobFields = graphql(`
  fragment SampleJobFields on SampleJob {
    id
    status
    error
    queuePosition
    progress {
      fraction
      stepsDone
      stepsTotal
    }
    queuedAt
    params {
      seed
      count
      steps
      sampler
      eta
      temperature
      label
      guidance
      interpolation {
        indexA
        indexB
        frames
      }
    }
    images {
      index
      url
    }
  }
`);

export type SampleJob = ResultOf<typeof SampleJobFields>;

export function readSampleJob(job: FragmentOf<typeof SampleJobFields>): SampleJob {
  return readFragment(SampleJobFields, job);
}

export const GenerateSamplesMutation = graphql(
  `
    mutation GenerateSamples($input: GenerateSamplesInput!) {
      generateSamples(input: $input) {
        ...SampleJobFields
      }
    }
  `,
  [SampleJobFields],
);

export const SampleJobQuery = graphql(
  `
    query SampleJob($id: ID!, $shareToken: String) {
      sampleJob(id: $id, shareToken: $shareToken) {
        ...SampleJobFields
      }
    }
  `,
  [SampleJobFields],
);

export const SampleJobUpdatedSubscription = graphql(
  `
    subscription SampleJobUpdated($id: ID!, $shareToken: String) {
      sampleJobUpdated(id: $id, shareToken: $shareToken) {
        ...SampleJobFields
      }
    }
  `,
  [SampleJobFields],
);

export const CancelSampleJobMutation = graphql(
  `
    mutation CancelSampleJob($id: ID!, $shareToken: String) {
      cancelSampleJob(id: $id, shareToken: $shareToken) {
        ...SampleJobFields
      }
    }
  `,
  [SampleJobFields],
);

export const InterpolateDatasetImagesMutation = graphql(
  `
    mutation InterpolateDatasetImages($input: InterpolateDatasetImagesInput!) {
      interpolateDatasetImages(input: $input) {
        ...SampleJobFields
      }
    }
  `,
  [SampleJobFields],
);

/** The training dataset version of a model version, as far as the caller may read it (for picking two images). */
export const InterpolationSourceQuery = graphql(`
  query InterpolationSource($id: ID!) {
    modelVersion(id: $id) {
      id
      datasetVersionId
    }
  }
`);

export const TrainingImagesQuery = graphql(`
  query TrainingImages($id: ID!) {
    datasetVersion(id: $id) {
      id
      acceptedCount
      thumbnails {
        tile
        columns
        perSheet
        sheetUrls
      }
    }
  }
`);

/** The signed-in caller's earlier jobs on a version, for the playground's history. */
export const MySampleJobsQuery = graphql(
  `
    query MySampleJobs($versionId: ID!) {
      modelVersion(id: $versionId) {
        id
        mySampleJobs(first: 6) {
          ...SampleJobFields
        }
      }
    }
  `,
  [SampleJobFields],
);
