// ESLint (flat config) with typescript-eslint's type-aware rules over every workspace. Prettier owns formatting,
// so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/.next/**',
      'reports/**',
      '.dapple/**',
      'drizzle/**',
      '**/*.wasm.ts',
      'apps/web/src/graphql/graphql-env.d.ts',
      'apps/web/next-env.d.ts',
      '**/bench/gpu/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Configuration is read and validated in one place per app (its env.ts, with zod); everything else gets typed
    // values from there, so a missing or malformed variable fails at start with a message naming it.
    files: ['apps/*/src/**/*.{ts,tsx}', 'packages/*/src/**/*.{ts,tsx}'],
    ignores: ['**/env.ts', '**/*.test.{ts,tsx}'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: "Read configuration through this workspace's env.ts." },
      ],
    },
  },
);
