/** A group of picked files for read.worker.ts to read (and checksum, for zip packs) in one Blob. */
export interface ReadRequest {
  id: number;
  files: File[];
  crcs: boolean;
}

/** The group's bytes, front to back (null: a file could not be read), and each file's CRC-32 when asked. */
export type ReadReply =
  { id: number; buffer: ArrayBuffer; crcs: number[] | null } | { id: number; buffer: null; crcs: null };
