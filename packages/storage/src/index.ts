export * from './object-store.ts';
export * from './errors.ts';
export { ObjectKey, objectKey, MAX_KEY_LENGTH } from './object-key.ts';
export { DEFAULT_URL_EXPIRY_SEC, MAX_URL_EXPIRY_SEC } from './url-expiry.ts';
export { DiskStore, type DiskStoreConfig, type OpenedObject } from './disk/disk-store.ts';
export { createSignedObjectHandler, type SignedObjectHandlerOptions } from './disk/signed-object-handler.ts';
export { S3Store, DEFAULT_PART_SIZE, type S3StoreConfig } from './s3/s3-store.ts';
export { parseS3Endpoint, type S3Endpoint } from './s3/parse-endpoint.ts';
export {
  createObjectStore,
  objectStoreConfigSchema,
  type ObjectStoreConfig,
  type DiskObjectStoreConfig,
  type S3ObjectStoreConfig,
} from './create-object-store.ts';
