/** People-facing names for the server's reject reasons (DatasetFile.rejectReason). */
const REASONS: Record<string, string> = {
  corrupt: 'Corrupt or unreadable image',
  unsupported_type: 'Not a supported image type',
  too_small: 'Smaller than the dataset resolution',
  too_many_pixels: 'Too many pixels to decode safely',
  duplicate: 'Duplicate of another image',
  too_large: 'File too large',
  unsafe_path: 'Unsafe file path',
  orphan_caption: 'Caption without an image',
};

export function rejectReasonLabel(reason: string | null | undefined): string {
  if (!reason) return 'Rejected';
  return REASONS[reason] ?? reason.replace(/_/g, ' ');
}
