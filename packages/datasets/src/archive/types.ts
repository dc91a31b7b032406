/** One regular file found by a format parser; `body` must be drained before the parser continues. */
export interface RawEntry {
  path: string;
  /** The size the header declares, or null when the format only states it after the data. */
  size: number | null;
  body: AsyncGenerator<Buffer>;
}
