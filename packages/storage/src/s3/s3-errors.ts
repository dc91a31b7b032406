import { InvalidPartError, InvalidRangeError, ObjectNotFoundError, UploadNotFoundError } from '../errors.ts';

export function s3ErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Translates the S3 error codes callers act on into our typed errors; anything else is returned as is.
 * With an uploadId in the context, "not found" means the upload (Ceph RGW answers ListParts of an
 * aborted upload with NoSuchKey).
 */
export function translateS3Error(error: unknown, context: { key?: string; uploadId?: string }): unknown {
  const code = s3ErrorCode(error);
  const options = { cause: error };
  switch (code) {
    case 'NoSuchKey':
    case 'NotFound':
      if (context.uploadId !== undefined) return new UploadNotFoundError(context.uploadId, options);
      return new ObjectNotFoundError(context.key ?? '', options);
    case 'NoSuchUpload':
      return new UploadNotFoundError(context.uploadId ?? '', options);
    case 'InvalidRange':
      return new InvalidRangeError(`range not satisfiable for '${context.key ?? ''}'`, options);
    case 'InvalidPart':
    case 'InvalidPartOrder':
    case 'EntityTooSmall':
      return new InvalidPartError(`${code}: ${(error as Error).message}`, options);
    default:
      return error;
  }
}
