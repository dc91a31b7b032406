import { graphql } from '../tada';

export const ApiTokensQuery = graphql(`
  query ApiTokens {
    me {
      id
      apiTokens {
        id
        name
        prefix
        scope
        createdAt
        lastUsedAt
        expiresAt
        revokedAt
      }
    }
  }
`);

export const CreateApiTokenMutation = graphql(`
  mutation CreateApiToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) {
      secret
      apiToken {
        id
        name
        prefix
      }
    }
  }
`);

export const RevokeApiTokenMutation = graphql(`
  mutation RevokeApiToken($id: ID!) {
    revokeApiToken(id: $id) {
      id
      revokedAt
    }
  }
`);
