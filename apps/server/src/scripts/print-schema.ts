// `npm run schema -w @dapple/server`: writes apps/server/schema.graphql from the Pothos schema.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { printSortedSchema } from '../graphql/schema/index.ts';

export const schemaFile = fileURLToPath(new URL('../../schema.graphql', import.meta.url));

await writeFile(schemaFile, printSortedSchema());
console.log(`wrote ${schemaFile}`);
