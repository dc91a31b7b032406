/** The markdown without the `## heading` section (up to the next heading of that level or higher). */
export function withoutSection(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) return markdown;
  const end = lines.findIndex((l, i) => i > start && /^#{1,2}\s/.test(l));
  return [...lines.slice(0, start), ...(end < 0 ? [] : lines.slice(end))].join('\n');
}
