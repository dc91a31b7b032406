// `@dapple/server/testing`: the in-process hub fixture and the fixtures other workspaces' tests share
// (users and teams, ready datasets, finished runs, published model versions). They live with the server,
// so no package imports an app; packages/testing keeps what needs no hub (Postgres, ports, browser, GraphQL client).
export { startTestHub, TEST_SECRET, type TestHub } from './support/hub.ts';
// Where the hub stores things, for tests that put objects in place as a trainer would.
export { sampleGridKey } from '../src/services/runs/index.ts';
export * from './helpers.ts';
export * from './runs-fixtures.ts';
export * from './runs-class-fixtures.ts';
export * from './models-fixtures.ts';
export * from './run-rows.ts';
export * from './sampling-fixtures.ts';
