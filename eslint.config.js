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
  // Syntactic rules only: typescript-eslint's type-aware set over the whole repository ran out of a 4 GB heap after
  // six minutes here (every workspace's program, each holding its dependencies' sources). Type safety is tsc's job
  // (checks/typecheck.test.ts); type-aware lint per workspace is a later step.
  ...tseslint.configs.recommended,
  {
    rules: {
      // `_`-prefixed names are deliberate drops (rest destructuring, unused callback parameters).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Ambient declarations of untyped packages are referenced by path on purpose.
      '@typescript-eslint/triple-slash-reference': ['error', { path: 'always', types: 'prefer-import', lib: 'always' }],
      // Wrapping an error with its cause is wanted; 12 existing sites still to convert, so a warning for now.
      'preserve-caught-error': 'warn',
    },
  },
  {
    // Tests read loosely typed GraphQL JSON; `any` there is the honest type.
    files: ['**/test/**', '**/e2e/**', '**/*.test.{ts,tsx}', 'packages/testing/src/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // Configuration is read and validated in one place per app (its env.ts, with zod); everything else gets typed
    // values from there, so a missing or malformed variable fails at start with a message naming it.
    files: ['apps/*/src/**/*.{ts,tsx}', 'packages/*/src/**/*.{ts,tsx}'],
    ignores: ['**/env.ts', '**/*.test.{ts,tsx}'],
    rules: {
      // Reading a variable is configuration; handing the whole environment on (`{ ...process.env }` to a child
      // process, or as an injectable default) is not.
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "MemberExpression[object.name='process'][property.name='env']:not(SpreadElement > MemberExpression, AssignmentPattern > MemberExpression)",
          message: "Read configuration through this workspace's env.ts.",
        },
      ],
    },
  },
);
