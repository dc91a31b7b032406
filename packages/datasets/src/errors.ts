/** Why an archive was refused. Each code names one problem; `limit` carries the limit that was crossed, if any. */
export type ArchiveErrorCode =
  | 'path_traversal'
  | 'absolute_path'
  | 'unsafe_path'
  | 'link_entry'
  | 'special_entry'
  | 'nested_archive'
  | 'compression_ratio'
  | 'expanded_size'
  | 'too_many_entries'
  | 'file_too_large'
  | 'size_mismatch'
  | 'encrypted_entry'
  | 'unsupported_entry'
  | 'corrupt_archive'
  | 'truncated_archive';

export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
  constructor(
    readonly code: ArchiveErrorCode,
    message: string,
    readonly details: { archive?: string; entry?: string; limit?: number; actual?: number } = {},
  ) {
    super(message);
  }
}

/** A shard or manifest that does not match what it claims to be (hash, header, size). */
export class ShardIntegrityError extends Error {
  override readonly name = 'ShardIntegrityError';
  constructor(
    readonly shard: string,
    message: string,
  ) {
    super(message);
  }
}
