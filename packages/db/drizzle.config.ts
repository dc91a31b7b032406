import { defineConfig } from 'drizzle-kit';

// Migrations are generated (`npm run generate -w @dapple/db`) and committed at the repo root; never `push`.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema/index.ts',
  out: '../../drizzle',
  casing: 'snake_case',
});
