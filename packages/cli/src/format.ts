const BARS = '▁▂▃▄▅▆▇█';

/** A one-line chart of the values (nulls as spaces), resampled to at most `width` characters. */
export function sparkline(values: (number | null)[], width = 60): string {
  if (values.length === 0) return '';
  const cols: (number | null)[] = [];
  const n = Math.min(width, values.length);
  for (let c = 0; c < n; c++) {
    const slice = values
      .slice(Math.floor((c * values.length) / n), Math.floor(((c + 1) * values.length) / n))
      .filter((v): v is number => v !== null);
    cols.push(slice.length ? slice.reduce((a, b) => a + b, 0) / slice.length : null);
  }
  const finite = cols.filter((v): v is number => v !== null);
  if (finite.length === 0) return ' '.repeat(n);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return cols
    .map((v) => (v === null ? ' ' : BARS[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))]))
    .join('');
}

/** Left-aligned columns separated by two spaces; the header row first. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n');
}

/** Short, stable number formatting for tables: 4 significant digits, exponent for tiny/huge values. */
export function num(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}
