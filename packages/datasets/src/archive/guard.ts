import { ArchiveError } from '../errors.ts';
import { RATIO_CHECK_FLOOR_BYTES, type DatasetLimits } from '../limits.ts';
import { hasArchiveExtension, isJunkPath, normaliseMemberPath } from '../paths.ts';

export type EntryKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'special' | 'metadata';

/**
 * Enforces the archive limits for one archive, whatever its format. Formats report each header
 * (`admit`) and every expanded byte (`EntryMeter.add`), so limits hold on what is actually expanded,
 * not on what headers claim: headers can lie.
 */
export class ArchiveGuard {
  entries = 0;
  expanded = 0;

  constructor(
    readonly limits: DatasetLimits,
    /** Bytes of the archive itself read so far (compressed bytes for .tar.gz), for the overall ratio. */
    private readonly sourceBytes: () => number,
  ) {}

  /**
   * Checks one header. Returns the normalised path of a regular file worth reading,
   * or null for a folder, a metadata entry or junk (`__MACOSX/`, dotfiles), which are skipped.
   */
  admit(rawPath: string, kind: EntryKind, declaredSize: number | null): string | null {
    this.entries += 1;
    if (this.entries > this.limits.maxEntries) {
      throw new ArchiveError(
        'too_many_entries',
        `archive has more than ${this.limits.maxEntries} entries (limit maxEntries)`,
        {
          limit: this.limits.maxEntries,
          actual: this.entries,
        },
      );
    }
    if (kind === 'metadata') return null;
    const path = normaliseMemberPath(rawPath);
    if (kind === 'symlink' || kind === 'hardlink') {
      throw new ArchiveError('link_entry', `archive entry "${path}" is a ${kind}; links are not allowed`, {
        entry: path,
      });
    }
    if (kind === 'special') {
      throw new ArchiveError('special_entry', `archive entry "${path}" is a device, FIFO or other special file`, {
        entry: path,
      });
    }
    if (kind === 'directory' || isJunkPath(path)) return null;
    if (hasArchiveExtension(path)) {
      throw new ArchiveError(
        'nested_archive',
        `archive entry "${path}" is itself an archive; nested archives are not allowed`,
        {
          entry: path,
        },
      );
    }
    if (declaredSize !== null) this.checkFileSize(path, declaredSize, 'declares');
    return path;
  }

  private checkFileSize(path: string, size: number, verb: string): void {
    if (size > this.limits.maxFileBytes) {
      throw new ArchiveError(
        'file_too_large',
        `archive entry "${path}" ${verb} ${size} bytes, over the per-file limit maxFileBytes=${this.limits.maxFileBytes}`,
        { entry: path, limit: this.limits.maxFileBytes, actual: size },
      );
    }
  }

  meter(path: string, declaredSize: number | null): EntryMeter {
    return new EntryMeter(this, path, declaredSize);
  }

  /** Called by EntryMeter for every expanded chunk. */
  account(meter: EntryMeter, bytes: number): void {
    this.expanded += bytes;
    const { limits } = this;
    if (meter.declaredSize !== null && meter.out > meter.declaredSize) {
      throw new ArchiveError(
        'size_mismatch',
        `archive entry "${meter.path}" expands past the ${meter.declaredSize} bytes its header declares`,
        { entry: meter.path, limit: meter.declaredSize, actual: meter.out },
      );
    }
    this.checkFileSize(meter.path, meter.out, 'expands to more than');
    if (this.expanded > limits.maxArchiveExpandedBytes) {
      throw new ArchiveError(
        'expanded_size',
        `archive expands to more than maxArchiveExpandedBytes=${limits.maxArchiveExpandedBytes} bytes`,
        { entry: meter.path, limit: limits.maxArchiveExpandedBytes, actual: this.expanded },
      );
    }
    const entryRatio = meter.out / Math.max(1, meter.compressed);
    if (meter.out > RATIO_CHECK_FLOOR_BYTES && entryRatio > limits.maxCompressionRatio) {
      throw new ArchiveError(
        'compression_ratio',
        `archive entry "${meter.path}" expands ${entryRatio.toFixed(0)}× its compressed size, over maxCompressionRatio=${limits.maxCompressionRatio} (zip bomb?)`,
        { entry: meter.path, limit: limits.maxCompressionRatio, actual: entryRatio },
      );
    }
    const overallRatio = this.expanded / Math.max(1, this.sourceBytes());
    if (this.expanded > RATIO_CHECK_FLOOR_BYTES && overallRatio > limits.maxCompressionRatio) {
      throw new ArchiveError(
        'compression_ratio',
        `archive expands ${overallRatio.toFixed(0)}× its own size, over maxCompressionRatio=${limits.maxCompressionRatio} (zip bomb?)`,
        { entry: meter.path, limit: limits.maxCompressionRatio, actual: overallRatio },
      );
    }
  }
}

/** Counts one entry's expanded bytes against its compressed bytes (set by the format as it reads). */
export class EntryMeter {
  out = 0;
  compressed = 0;

  constructor(
    private readonly guard: ArchiveGuard,
    readonly path: string,
    readonly declaredSize: number | null,
  ) {}

  add(bytes: number): void {
    this.out += bytes;
    this.guard.account(this, bytes);
  }

  /** At the end of an entry: a header that promised more than arrived is a corrupt archive. */
  finish(): void {
    if (this.declaredSize !== null && this.out !== this.declaredSize) {
      throw new ArchiveError(
        'size_mismatch',
        `archive entry "${this.path}" declares ${this.declaredSize} bytes but expands to ${this.out}`,
        { entry: this.path, limit: this.declaredSize, actual: this.out },
      );
    }
  }
}
