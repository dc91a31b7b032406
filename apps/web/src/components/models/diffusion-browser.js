// Re-exports the browser sampler of @dapple/models for the bundler. Plain JS with a hand-written
// .d.ts beside it: the dashboard's type check then does not walk the whole diffusion package (its own
// tsconfig checks it), and a type error there cannot fail the dashboard's build.
export { loadModelForSampling } from '@dapple/models/browser';
