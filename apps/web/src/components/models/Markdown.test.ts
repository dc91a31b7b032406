import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { checkSettings, DEFAULT_SETTINGS, fieldOf } from './sampling-form';
import { Markdown, markdownSummary, safeHref } from './Markdown';

const render = (source: string) => renderToStaticMarkup(createElement(Markdown, { source }));

describe('model card markdown', () => {
  it('renders headings, lists, code, emphasis and tables', () => {
    const html = render(
      '# Title\n\nSome **bold** and `code`.\n\n- one\n- two\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n```\nx < y\n```',
    );
    expect(html).toContain('<h3>Title</h3>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<code>code</code>');
    expect(html).toContain('<ul><li>one</li><li>two</li></ul>');
    expect(html).toContain('<th scope="col">a</th>');
    expect(html).toContain('<td>2</td>');
    expect(html).toContain('<pre><code>x &lt; y</code></pre>');
  });

  it('keeps underscores inside words and honours backslash escapes', () => {
    const html = render(
      '| metric |\n| --- |\n| images_per_sec |\n\n_whole_ word, snake_case_name, \\*not em\\* and a\\_b',
    );
    expect(html).toContain('<td>images_per_sec</td>');
    expect(html).toContain('<em>whole</em> word, snake_case_name, *not em* and a_b');
    expect(render('| run | step |\n| --- | --- |\n| a\\|b | 5 |')).toContain('<td>a|b</td><td>5</td>');
    expect(render('__bold__ and dunder__name__')).toContain('<strong>bold</strong> and dunder__name__');
  });

  it('shows raw HTML as text and drops script links', () => {
    const html = render(
      '<img src=x onerror=alert(1)> <script>alert(2)</script>\n\n[click](javascript:alert(3)) [ok](https://example.com/a)',
    );
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('href="https://example.com/a"');
    expect(safeHref('data:text/html,hi')).toBeNull();
    expect(safeHref('//evil.example')).toBeNull();
    expect(safeHref('/t/x')).toBe('/t/x');
  });
});

describe('sampling settings', () => {
  it('accepts the defaults and names each bad field with its limit', () => {
    expect(checkSettings(DEFAULT_SETTINGS, []).ok).toBe(true);
    const bad = checkSettings(
      { ...DEFAULT_SETTINGS, sampler: 'DDIM', count: '65', steps: '0', eta: '2', guidance: '3' },
      [],
    );
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors.count).toContain('1 to 64');
    expect(bad.errors.steps).toContain('1 to 1000');
    expect(bad.errors.eta).toContain('0 to 1');
    expect(bad.errors.guidance).toContain('needs a class');
    expect(checkSettings({ ...DEFAULT_SETTINGS, label: 'cat', guidance: '3' }, ['cat', 'dog']).ok).toBe(true);
    expect(fieldOf('input.steps')).toBe('steps');
    expect(fieldOf('modelVersionId')).toBeNull();
  });
});

describe('markdownSummary', () => {
  it('is the first paragraph as plain text, shortened', () => {
    expect(markdownSummary('# Blobs\n\nGrey **blobs**, see [the paper](https://example.com).')).toBe('Blobs');
    expect(markdownSummary('Grey **blobs** and `code`, see [the paper](https://example.com).\n\nMore.')).toBe(
      'Grey blobs and code, see the paper.',
    );
    expect(markdownSummary('x'.repeat(200), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(markdownSummary('')).toBe('');
    expect(markdownSummary('Tracks images_per_sec, _not_ \\*this\\*.')).toBe('Tracks images_per_sec, not *this*.');
    expect(markdownSummary('A __bold__ ![logo](x.png) start')).toBe('A bold logo start');
  });
});
