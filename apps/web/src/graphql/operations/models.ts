import { graphql, readFragment, type FragmentOf, type ResultOf } from '../tada';

// The model registry as the dashboard reads it. Sharing fields (shares, shareLinks) are asked for
// separately: the API refuses them to anyone who is not a team admin of the model.

export const TeamModelsQuery = graphql(`
  query TeamModels($teamId: ID!, $first: Int) {
    models(teamId: $teamId, first: $first) {
      id
      name
      description
      teamId
      visibility
      updatedAt
      aliases {
        name
        versionId
      }
      latest: version(alias: "latest") {
        id
        number
        step
        resolution
        sampleGridUrl
        createdAt
      }
    }
  }
`);

/** A version as the model page and the public share page list it. */
const ModelVersionFields = graphql(`
  fragment ModelVersionFields on ModelVersion {
    id
    number
    architecture
    runId
    step
    createdAt
    createdBy
    aliases
    resolution
    channels
    labelNames
    predictionType
    notes
    modelCard
    weightsBytes
    weightsPrecision
    datasetVersionHash
    sampleGridUrl
    sampleGridStep
    configJson
    metrics {
      key
      last
      mean
      step
    }
  }
`);

export function readModelVersions(
  versions: readonly FragmentOf<typeof ModelVersionFields>[],
): readonly ResultOf<typeof ModelVersionFields>[] {
  return readFragment(ModelVersionFields, versions);
}

export const ModelQuery = graphql(
  `
    query Model($id: ID!) {
      model(id: $id) {
        id
        name
        description
        teamId
        visibility
        createdAt
        updatedAt
        viewerPermissions
        aliases {
          name
          versionId
          updatedAt
        }
        aliasEvents(first: 20) {
          aliasName
          at
          fromNumber
          toNumber
          reason
        }
        versions {
          ...ModelVersionFields
        }
      }
    }
  `,
  [ModelVersionFields],
);

export const ModelSharingQuery = graphql(`
  query ModelSharing($id: ID!) {
    model(id: $id) {
      id
      shares {
        id
        role
        teamId
        teamName
        userId
        userEmail
        userName
        createdAt
      }
      shareLinks {
        id
        prefix
        active
        createdAt
        expiresAt
        revokedAt
        lastUsedAt
      }
    }
  }
`);

export const SharedModelQuery = graphql(
  `
    query SharedModel($token: String!) {
      sharedModel(token: $token) {
        id
        name
        description
        visibility
        aliases {
          name
          versionId
        }
        versions {
          ...ModelVersionFields
        }
      }
    }
  `,
  [ModelVersionFields],
);

export const ModelVersionFilesQuery = graphql(`
  query ModelVersionFiles($id: ID!, $shareToken: String) {
    modelVersion(id: $id, shareToken: $shareToken) {
      id
      labelNames
      files {
        modelJsonUrl
        weightsUrl
        expiresAt
      }
    }
  }
`);

export const SetAliasMutation = graphql(`
  mutation SetAlias($modelId: ID!, $name: String!, $versionId: ID!) {
    setAlias(modelId: $modelId, name: $name, versionId: $versionId) {
      id
      aliases {
        name
        versionId
      }
    }
  }
`);

export const ShareModelMutation = graphql(`
  mutation ShareModel($input: ShareModelInput!) {
    shareModel(input: $input) {
      id
      role
    }
  }
`);

export const UnshareModelMutation = graphql(`
  mutation UnshareModel($modelId: ID!, $teamId: ID, $userId: ID) {
    unshareModel(modelId: $modelId, teamId: $teamId, userId: $userId)
  }
`);

export const CreateShareLinkMutation = graphql(`
  mutation CreateShareLink($modelId: ID!, $expiresInHours: Int!) {
    createShareLink(modelId: $modelId, expiresInHours: $expiresInHours) {
      token
      link {
        id
        prefix
        expiresAt
      }
    }
  }
`);

export const RevokeShareLinkMutation = graphql(`
  mutation RevokeShareLink($id: ID!) {
    revokeShareLink(id: $id) {
      id
      active
      revokedAt
    }
  }
`);

export const DeleteModelVersionMutation = graphql(`
  mutation DeleteModelVersion($id: ID!) {
    deleteModelVersion(id: $id)
  }
`);

export const ExportModelVersionMutation = graphql(`
  mutation ExportModelVersion($id: ID!, $shareToken: String) {
    exportModelVersion(id: $id, shareToken: $shareToken) {
      url
      sizeBytes
      expiresAt
    }
  }
`);

export const ComparableEvaluationsQuery = graphql(`
  query ComparableEvaluations($modelId: ID!) {
    comparableEvaluations(modelId: $modelId) {
      comparableKey
      extractor
      numSamples
      evaluations {
        id
        modelVersionId
        datasetVersionHash
        paperComparable
        viewerCanDelete
        numSamples
        sampler
        steps
        eta
        guidance
        labelSet
        fid
        kid {
          mean
          std
        }
        kidSubsetsDiffer
        inceptionScore {
          mean
          std
        }
        realInceptionScore {
          mean
          std
        }
        classifier {
          name
          heldOutAccuracy
        }
        sampleAccuracy {
          accuracy
          chance
          perClass {
            label
            name
            count
            accuracy
          }
        }
        datasetInceptionScore {
          mean
          std
        }
        realDatasetInceptionScore {
          mean
          std
        }
        finishedAt
      }
    }
  }
`);

/** What the model page shows of an evaluation that has no numbers (yet): where it is, or why it stopped. */
const EvaluationActivityFields = graphql(`
  fragment EvaluationActivityFields on Evaluation @_unmask {
    id
    modelVersionId
    status
    phase
    queuePosition
    samplesDone
    numSamples
    extractor
    error
    viewerCanCancel
    viewerCanDelete
    queuedAt
    finishedAt
  }
`);

/** The model's queued and running evaluations, and the failed and cancelled ones (the page keeps the recent ones). */
export const EvaluationActivityQuery = graphql(
  `
    query EvaluationActivity($modelId: ID!) {
      model(id: $modelId) {
        id
        evaluations(statuses: [QUEUED, RUNNING, FAILED, CANCELLED], first: 20) {
          ...EvaluationActivityFields
        }
      }
    }
  `,
  [EvaluationActivityFields],
);

export const DeleteEvaluationMutation = graphql(`
  mutation DeleteEvaluation($id: ID!) {
    deleteEvaluation(id: $id)
  }
`);

export const EvaluateModelMutation = graphql(`
  mutation EvaluateModel($input: EvaluateModelInput!) {
    evaluateModel(input: $input) {
      id
    }
  }
`);

export const EvaluationUpdatedSubscription = graphql(
  `
    subscription EvaluationUpdated($id: ID!) {
      evaluationUpdated(id: $id) {
        ...EvaluationActivityFields
      }
    }
  `,
  [EvaluationActivityFields],
);

export const EvaluationQuery = graphql(
  `
    query Evaluation($id: ID!) {
      evaluation(id: $id) {
        ...EvaluationActivityFields
      }
    }
  `,
  [EvaluationActivityFields],
);

export const CancelEvaluationMutation = graphql(
  `
    mutation CancelEvaluation($id: ID!) {
      cancelEvaluation(id: $id) {
        ...EvaluationActivityFields
      }
    }
  `,
  [EvaluationActivityFields],
);

/** The description (markdown) of a model; members and up (visibility is changed by admins, in the share dialog). */
export const UpdateModelMutation = graphql(`
  mutation UpdateModel($input: UpdateModelInput!) {
    updateModel(input: $input) {
      id
      description
    }
  }
`);

export const RemoveAliasMutation = graphql(`
  mutation RemoveAlias($modelId: ID!, $name: String!) {
    removeAlias(modelId: $modelId, name: $name)
  }
`);

export const DeleteModelMutation = graphql(`
  mutation DeleteModel($id: ID!) {
    deleteModel(id: $id)
  }
`);
