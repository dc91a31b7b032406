// Dates are formatted in UTC so the server render and the browser's hydration agree.
const dateFormat = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' });
const dateTimeFormat = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

export function formatDate(iso: string): string {
  return dateFormat.format(new Date(iso));
}

export function formatDateTime(iso: string): string {
  return `${dateTimeFormat.format(new Date(iso))} UTC`;
}

/** Where a queued job stands ("starts next", "2 ahead of it"); null while the hub has not placed it. */
export function queuePlace(position: number | null | undefined): string | null {
  if (position == null) return null;
  return position === 0 ? 'starts next' : `${position} ahead of it`;
}
