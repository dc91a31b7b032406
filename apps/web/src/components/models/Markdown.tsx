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
    if (
      isTableRow(line) &&
      i + 1 < lines.length &&
      /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(lines[i + 1]!)
    ) {
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
    while (i < lines.length && lines[i]!.trim() !== '' && !/^(#{1,6}\s|```|\s*[-*+]\s|>\s?)/.test(lines[i]!))
      paragraph.push(lines[i++]!);
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
  /(\\[!-/:-@[-`{-~])|(`[^`]+`)|(\*\*[^*]+\*\*|(?<![\p{L}\p{N}_])__[^_]+__(?![\p{L}\p{N}_]))|(\*[^*\s][^*]*\*|(?<![\p{L}\p{N}_])_[^_\s][^_]*_(?![\p{L}\p{N}_]))|\[([^\]]+)\]\(([^)\s]+)\)/u;

type InlineToken =
  | { kind: 'text' | 'code'; text: string }
  | { kind: 'strong' | 'em'; inner: string }
  | { kind: 'link'; label: string; href: string };

/** One line of markdown as its inline tokens; the card renderer and the plain-text summary read the same grammar. */
function inlineTokens(text: string): InlineToken[] {
  const out: InlineToken[] = [];
  let rest = text;
  while (rest.length > 0) {
    const match = INLINE.exec(rest);
    if (!match) {
      out.push({ kind: 'text', text: rest });
      break;
    }
    if (match.index > 0) out.push({ kind: 'text', text: rest.slice(0, match.index) });
    const token = match[0];
    if (match[1]) out.push({ kind: 'text', text: token.slice(1) });
    else if (match[2]) out.push({ kind: 'code', text: token.slice(1, -1) });
    else if (match[3]) out.push({ kind: 'strong', inner: token.slice(2, -2) });
    else if (match[4]) out.push({ kind: 'em', inner: token.slice(1, -1) });
    else out.push({ kind: 'link', label: match[5]!, href: match[6]! });
    rest = rest.slice(match.index + token.length);
  }
  return out;
}

function inline(text: string): React.ReactNode[] {
  return inlineTokens(text).map((t, key) => {
    switch (t.kind) {
      case 'text':
        return <Fragment key={key}>{t.text}</Fragment>;
      case 'code':
        return <code key={key}>{t.text}</code>;
      case 'strong':
        return <strong key={key}>{inline(t.inner)}</strong>;
      case 'em':
        return <em key={key}>{inline(t.inner)}</em>;
      case 'link': {
        const href = safeHref(t.href);
        return href ? (
          <a
            key={key}
            href={href}
            rel="noopener noreferrer nofollow"
            target={href.startsWith('/') ? undefined : '_blank'}
          >
            {t.label}
          </a>
        ) : (
          <Fragment key={key}>{t.label}</Fragment>
        );
      }
    }
  });
}

/** The same line as plain text: marks, escapes and link targets dropped. */
function inlineText(text: string): string {
  return inlineTokens(text)
    .map((t) => ('text' in t ? t.text : 'label' in t ? t.label : inlineText(t.inner)))
    .join('');
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
  const blockMarksDropped = paragraph
    .replace(/^#{1,6}\s+/gm, '')
    .replace(/^\s*(?:[-*+]|\d+\.)\s+/gm, '')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1');
  const text = inlineText(blockMarksDropped).replace(/\s+/g, ' ').trim();
  return text.length > maxLength ? `${text.slice(0, maxLength - 1).trimEnd()}…` : text;
}
