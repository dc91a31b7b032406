export * from './format.ts';
export * from './manifest.ts';
export * from './reader.ts';
export * from './writer.ts';
export { seededRandom } from './random.ts';
