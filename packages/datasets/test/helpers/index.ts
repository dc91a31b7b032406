// `@dapple/datasets/testing`: the archive and image builders other workspaces' tests upload (zip, tar, PNG).
export { buildZip, type ZipMember } from './zip-builder.ts';
export { buildTar, type TarMember } from './tar-builder.ts';
export { gradient, solid, encode, png, animatedGif } from './images.ts';
