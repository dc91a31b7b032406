import { graphql } from '../tada';

export const MeQuery = graphql(`
  query Me {
    me {
      id
      name
      email
      teams {
        id
        slug
        name
        viewerRole
      }
    }
  }
`);

export const SignUpMutation = graphql(`
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) {
      user {
        id
        name
      }
      team {
        slug
      }
    }
  }
`);

export const SignUpPolicyQuery = graphql(`
  query SignUpPolicy {
    signUpPolicy {
      mode
      openWithoutInvite
    }
  }
`);

export const SignInMutation = graphql(`
  mutation SignIn($input: SignInInput!) {
    signIn(input: $input) {
      user {
        id
        name
      }
    }
  }
`);

export const SignOutMutation = graphql(`
  mutation SignOut {
    signOut
  }
`);
