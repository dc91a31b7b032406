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
);
