import type { NextConfig } from 'next';

// API traffic (/graphql incl. WebSockets, /objects/*, /healthz) is forwarded by src/proxy.ts at request
// time, not by `rewrites` here: rewrites are frozen into the build, and the API's address is only known
// when `next start` runs (DAPPLE_API_URL).
const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The build type-checks the app only; tests (which import the hub through @dapple/server/testing) are
  // checked by `npm run typecheck`.
  // The tests' builds skip it (DAPPLE_WEB_BUILD_TYPECHECK=0, set by @dapple/web-launcher): `npm test` type-checks
  // apps/web in checks/typescript.test.ts, and this check held every browser test up for ~30 s on one core.
  typescript: {
    tsconfigPath: 'tsconfig.build.json',
    ignoreBuildErrors: process.env.DAPPLE_WEB_BUILD_TYPECHECK === '0',
  },
  experimental: {
    // The proxy answers 500 when the API takes longer than this (default 30 s); uploads are not
    // affected (they go through app/objects), but a slow GraphQL request on a loaded machine is.
    proxyTimeout: 120_000,
  },
};

export default config;
