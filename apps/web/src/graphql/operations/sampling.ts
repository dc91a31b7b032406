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
    params {
      seed
      count
      steps
      sampler
      temperature
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
