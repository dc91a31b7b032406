// API tokens belong to the account, not the team; from a team's pages they open here, inside the team's header and
// nav (the /settings/tokens page, for accounts without a team, has only the account nav).
export { default, metadata } from '../../../settings/tokens/page';
