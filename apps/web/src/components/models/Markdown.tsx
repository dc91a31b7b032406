import { Fragment } from 'react';

/**
 * Renders a model card's markdown as React elements — never as HTML. Raw HTML in the source shows up
 * as text, and links are kept only for http(s) and relative targets, so a card cannot run script.
 * Covers what cards use: headings, paragraphs, lists, fenced code, inline code, bold, italics, links.
 */
export function Markdown({ source, className }: { source: string; className?: string }) {
  return <div className={className}>{blocks(source)}</div>;
}

function blocks(source: string): React.ReactNode[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const out: React.ReactNode[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '') {
      i++;
      continue;
    }
    const fence = /^```/.exec(line);
    if (fence) {
      const code: string[] = [];
      i++;
      while (i < lines.length && !/^```/.test(lines[i]!)) code.push(lines[i++]!);
      i++;
      out.push(
        <pre key={out.length}>
          <code>{code.join('\n')}</code>
        </pre>,
      );
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      // Card headings sit under the page's own h1/h2: shift them down so the outline stays valid.
      const level = Math.min(6, heading[1]!.length + 2);
      const Tag = `h${level}` as 'h3';
      out.push(<Tag key={out.length}>{inline(heading[2]!)}</Tag>);
      i++;
      continue;
    }
    if (/^\s*[-*+]\s+/.test(line) || /^\s*\d+[.)]\s+/.test(line)) {
      const ordered = /^\s*\d+[.)]\s+/.test(line);
      const items: string[] = [];
      while (i < lines.length && (ordered ? /^\s*\d+[.)]\s+/ : /^\s*[-*+]\s+/).test(lines[i]!)) {
        items.push(lines[i]!.replace(ordered ? /^\s*\d+[.)]\s+/ : /^\s*[-*+]\s+/, ''));
        i++;
      }
      const List = ordered ? 'ol' : 'ul';
      out.push(
        <List key={out.length}>
          {items.map((item, n) => (
            <li key={n}>{inline(item)}</li>
          ))}
        </List>,
      );
      continue;
    }
    if (/^>\s?/.test(line)) {
      const quote: string[] = [];
      while (i < lines.length && /^>\s?/.test(lines[i]!)) quote.push(lines[i++]!.replace(/^>\s?/, ''));
      out.push(<blockquote key={out.length}>{inline(quote.join(' '))}</blockquote>);
      continue;
    }
    if (isTableRow(line) && i + 1 < lines.length && /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(lines[i + 1]!)) {
      const head = cells(line);
      const rows: string[][] = [];
      i += 2;
      while (i < lines.length && isTableRow(lines[i]!)) rows.push(cells(lines[i++]!));
      out.push(
        <div key={out.length} style={{ overflowX: 'auto' }}>
          <table>
            <thead>
              <tr>
                {head.map((h, n) => (
                  <th key={n} scope="col">
                    {inline(h)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row, r) => (
                <tr key={r}>
                  {head.map((_, n) => (
                    <td key={n}>{inline(row[n] ?? '')}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>,
      );
      continue;
    }
    if (/^(-{3,}|\*{3,})\s*$/.test(line)) {
      out.push(<hr key={out.length} />);
      i++;
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '' && !/^(#{1,6}\s|```|\s*[-*+]\s|>\s?)/.test(lines[i]!)) paragraph.push(lines[i++]!);
    if (paragraph.length === 0) paragraph.push(lines[i++]!);
    out.push(<p key={out.length}>{inline(paragraph.join(' '))}</p>);
  }
  return out;
}

function isTableRow(line: string): boolean {
  return /^\s*\|.*\|\s*$/.test(line);
}

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/) // an escaped \| is text inside a cell
    .map((c) => c.trim());
}

/**
 * Inline tokens, leftmost first: a backslash escape, code, bold, italics, a link. As in CommonMark, `_` inside a
 * word is a letter, not emphasis: metric names such as images_per_sec stay whole.
 */
const INLINE =
  /(\\[!-/:-@[-`{-~])|(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*|(?<![\p{L}\p{N}])_[^_\s][^_]*_(?![\p{L}\p{N}]))|(\[[^\]]+\]\([^)\s]+\))/u;

function inline(text: string): React.ReactNode[] {
  const out: React.ReactNode[] = [];
  let rest = text;
  while (rest.length > 0) {
    const match = INLINE.exec(rest);
    if (!match) {
      out.push(rest);
      break;
    }
    if (match.index > 0) out.push(rest.slice(0, match.index));
    const token = match[0];
    const key = out.length;
    if (match[1]) out.push(token.slice(1));
    else if (match[2]) out.push(<code key={key}>{token.slice(1, -1)}</code>);
    else if (match[3]) out.push(<strong key={key}>{inline(token.slice(2, -2))}</strong>);
    else if (match[4]) out.push(<em key={key}>{inline(token.slice(1, -1))}</em>);
    else {
      const link = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(token)!;
      const href = safeHref(link[2]!);
      out.push(
        href ? (
          <a key={key} href={href} rel="noopener noreferrer nofollow" target={href.startsWith('/') ? undefined : '_blank'}>
            {link[1]}
          </a>
        ) : (
          <Fragment key={key}>{link[1]}</Fragment>
        ),
      );
    }
    rest = rest.slice(match.index + token.length);
  }
  return out;
}

/** Only web links and same-site paths: `javascript:`, `data:` and the like are dropped. */
export function safeHref(href: string): string | null {
  if (href.startsWith('/') && !href.startsWith('//')) return href;
  try {
    const url = new URL(href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * The first paragraph of markdown as plain text (headings, emphasis, code marks and link targets dropped),
 * for one-line summaries such as the gallery's, where rendered markdown would not fit.
 */
export function markdownSummary(source: string, maxLength = 160): string {
  const paragraph =
    source
      .replace(/\r\n?/g, '\n')
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .find((p) => p !== '' && !p.startsWith('```')) ?? '';
  const text = paragraph
    .replace(/^#{1,6}\s+/gm, '')
    .replace(/^\s*(?:[-*+]|\d+\.)\s+/gm, '')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    // Left to right, an escaped character before any emphasis that would swallow it.
    .replace(
      /\\([!-/:-@[-`{-~])|(\*\*|\*|`)(.+?)\2|(?<![\p{L}\p{N}])(__|_)(.+?)\4(?![\p{L}\p{N}])/gu,
      (_m, escaped, _s, starred, _u, underscored) => escaped ?? starred ?? underscored,
    )
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > maxLength ? `${text.slice(0, maxLength - 1).trimEnd()}…` : text;
}
