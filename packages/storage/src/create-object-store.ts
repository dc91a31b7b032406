import { z } from 'zod';
import { InvalidArgumentError } from './errors.ts';
import { DiskStore } from './disk/disk-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3Store } from './s3/s3-store.ts';

const diskConfig = z.object({
  kind: z.literal('disk'),
  root: z.string().min(1),
  publicBaseUrl: z.url(),
  signingSecret: z.string().min(32),
});

const s3Config = z.object({
  kind: z.literal('s3'),
  endPoint: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  useSSL: z.boolean(),
  accessKey: z.string().min(1),
  secretKey: z.string().min(1),
  bucket: z.string().min(3).max(63),
  region: z.string().min(1).optional(),
  publicEndpoint: z.url().optional(),
});

export const objectStoreConfigSchema = z.discriminatedUnion('kind', [diskConfig, s3Config]);
export type ObjectStoreConfig = z.input<typeof objectStoreConfigSchema>;
export type DiskObjectStoreConfig = z.input<typeof diskConfig>;
export type S3ObjectStoreConfig = z.input<typeof s3Config>;

/** Builds the store from a plain config (what an app's env.ts produces). Throws InvalidArgumentError naming the bad field. */
export function createObjectStore(config: { kind: 'disk' } & DiskObjectStoreConfig): DiskStore;
export function createObjectStore(config: { kind: 's3' } & S3ObjectStoreConfig): S3Store;
export function createObjectStore(config: ObjectStoreConfig): DiskStore | S3Store;
export function createObjectStore(config: ObjectStoreConfig): DiskStore | S3Store {
  const parsed = objectStoreConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`)
      .join('; ');
    throw new InvalidArgumentError(`invalid object store config: ${issues}`);
  }
  const value = parsed.data;
  if (value.kind === 'disk') return new DiskStore(value);
  const { kind: _kind, ...s3 } = value;
  return new S3Store(s3);
}

export type { ObjectStore };
