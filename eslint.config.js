// ESLint (flat config) with typescript-eslint's type-aware rules over every workspace. Prettier owns formatting,
// so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/.next/**',
      // Bundles built from our sources (apps/trainer/dist: the trainer as the local executor starts it).
      '**/dist/**',
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
  // Type-aware rules: each file is checked with the program of its nearest tsconfig.json (the project service).
  // Linting the whole repository in one process holds every project's program at once and ran out of a 4 GB heap,
  // so `npm run lint` (scripts/lint.ts) runs one ESLint process per tsconfig.json (README.md, "Tests").
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
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
      // An async function without `await` is how this code implements a Promise-returning interface (Apollo plugins,
      // executors, job handlers); the promise mistakes the rule hints at are no-floating-promises' and
      // no-misused-promises' job, which stay on.
      '@typescript-eslint/require-await': 'off',
      // React ignores what an event handler returns, so `onClick={async () => …}` is how the dashboard acts on a click;
      // promises inside handlers and everywhere else are still checked (no-floating-promises, and void-return
      // checks for arguments, e.g. a timer's callback).
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      // `op(…) as tf.Tensor4D` is how TF.js code states the rank of an op's result; the rule would ask for `op<…>()`
      // instead, whose type parameter is a Rank for some ops and a Tensor type for others.
      '@typescript-eslint/no-unnecessary-type-assertion': [
        'error',
        { typesToIgnore: ['tf.Tensor', 'tf.Scalar', 'tf.Tensor1D', 'tf.Tensor2D', 'tf.Tensor3D', 'tf.Tensor4D'] },
      ],
      // graphql-ws' dispose() returns `void | Promise<void>` by design; Promise.all over such values is correct.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
    },
  },
  {
    // Tests read loosely typed GraphQL JSON; `any` there is the honest type.
    files: ['**/test/**', '**/e2e/**', '**/*.test.{ts,tsx}', 'packages/testing/src/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
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
  // Plain JavaScript files (bin shims, configs) belong to no TypeScript project: syntactic rules only. Last, so no
  // rule set above turns a type-aware rule back on for them.
  { files: ['**/*.{js,mjs,cjs}'], extends: [tseslint.configs.disableTypeChecked] },
);
