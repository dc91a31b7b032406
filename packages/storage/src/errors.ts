// Typed errors so callers (GraphQL services, the signed-URL handler) can map failures to codes
// without parsing messages. Every error carries a stable `code`.

export type StorageErrorCode =
  | 'INVALID_KEY'
  | 'INVALID_ARGUMENT'
  | 'OBJECT_NOT_FOUND'
  | 'SIZE_MISMATCH'
  | 'INVALID_RANGE'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_EXPIRED'
  | 'UPLOAD_NOT_FOUND'
  | 'INVALID_PART';

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidKeyError extends StorageError {
  constructor(message: string) {
    super('INVALID_KEY', message);
  }
}

export class InvalidArgumentError extends StorageError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

export class ObjectNotFoundError extends StorageError {
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super('OBJECT_NOT_FOUND', `object '${key}' does not exist`, options);
  }
}

export class SizeMismatchError extends StorageError {
  constructor(
    readonly expected: number,
    readonly actual: number | 'more',
    what = 'body',
  ) {
    super(
      'SIZE_MISMATCH',
      actual === 'more'
        ? `${what} is longer than the declared size of ${expected} bytes`
        : `${what} has ${actual} bytes but the declared size is ${expected} bytes`,
    );
  }
}

export class InvalidRangeError extends StorageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_RANGE', message, options);
  }
}

export class SignatureError extends StorageError {
  constructor(
    readonly reason: 'invalid' | 'expired',
    message: string,
  ) {
    super(reason === 'expired' ? 'SIGNATURE_EXPIRED' : 'SIGNATURE_INVALID', message);
  }
}

export class UploadNotFoundError extends StorageError {
  constructor(
    readonly uploadId: string,
    options?: { cause?: unknown },
  ) {
    super(
      'UPLOAD_NOT_FOUND',
      `multipart upload '${uploadId}' does not exist (never created, completed or aborted)`,
      options,
    );
  }
}

export class InvalidPartError extends StorageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_PART', message, options);
  }
}
