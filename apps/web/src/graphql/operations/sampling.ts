import { graphql } from '../tada';

export const GenerateSamplesMutation = graphql(`
    mutation GenerateSamples($input: GenerateSamplesInput!) {
      generateSamples(input: $input) {
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
        }
        images {
          index
          url
        }
      }
    }
`);

export const SampleJobQuery = graphql(`
    query SampleJob($id: ID!, $shareToken: String) {
      sampleJob(id: $id, shareToken: $shareToken) {
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
        }
        images {
          index
          url
        }
      }
    }
`);

export const SampleJobUpdatedSubscription = graphql(`
    subscription SampleJobUpdated($id: ID!, $shareToken: String) {
      sampleJobUpdated(id: $id, shareToken: $shareToken) {
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
        }
        images {
          index
          url
        }
      }
    }
`);
