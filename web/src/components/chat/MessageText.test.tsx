import { render } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { MessageText } from './MessageText';

const rendered = (text: string, mentions: string[] = [], me: string | null = 'alice') =>
  render(<MessageText text={text} mentions={mentions} me={me} />).container.querySelector('.message-text')!;

describe('MessageText', () => {
  it('renders Markdown: bold, italic, inline code, code blocks, lists and quotes', () => {
    const text = rendered('**bold** and _it_ and `x < y`\n\n```\nconst a = "<b>";\n```\n\n- one\n- two\n\n> quoted');
    expect(text.querySelector('strong')).toHaveTextContent('bold');
    expect(text.querySelector('em')).toHaveTextContent('it');
    expect(text.querySelector('p code')).toHaveTextContent('x < y');
    expect(text.querySelector('pre code')).toHaveTextContent('const a = "<b>";');
    expect([...text.querySelectorAll('li')].map((item) => item.textContent)).toEqual(['one', 'two']);
    expect(text.querySelector('blockquote')).toHaveTextContent('quoted');
  });

  it('shows raw HTML as text, never as elements', () => {
    const xss = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    const text = rendered(xss);
    expect(text.querySelector('img, script')).toBeNull();
    expect(text.textContent).toBe(xss);
    const inline = rendered('hi <b onmouseover="x()">there</b>');
    expect(inline.querySelector('b')).toBeNull();
    expect(inline.textContent).toBe('hi <b onmouseover="x()">there</b>');
  });

  it('opens safe links in a new tab without the opener, and makes others plain text', () => {
    const text = rendered('[site](https://example.com) [bad](javascript:alert(1)) [data](data:text/html,x) [rel](/api/auth/logout) <https://auto.example>');
    const links = [...text.querySelectorAll('a')];
    expect(links.map((link) => link.getAttribute('href'))).toEqual(['https://example.com', 'https://auto.example']);
    for (const link of links) {
      expect(link).toHaveAttribute('target', '_blank');
      expect(link).toHaveAttribute('rel', 'noopener noreferrer nofollow');
    }
    expect(text).toHaveTextContent('bad');
    expect(text.querySelector('[href^="javascript"], [href^="data"], [href^="/"]')).toBeNull();
  });

  it('shows an image as a link to it, loading nothing', () => {
    const text = rendered('![cat](https://example.com/cat.png) ![x](javascript:alert(1))');
    expect(text.querySelector('img')).toBeNull();
    expect(text.querySelector('a')).toHaveAttribute('href', 'https://example.com/cat.png');
    expect(text.querySelectorAll('a')).toHaveLength(1);
  });

  it('highlights the mentions the server resolved, the reader’s own apart, but not inside code', () => {
    const text = rendered('hi @Alice and @bob, `@alice` @nobody', ['alice', 'bob']);
    const mentions = [...text.querySelectorAll('.mention')];
    expect(mentions.map((mention) => [mention.textContent, mention.classList.contains('mention-me')])).toEqual([
      ['@Alice', true],
      ['@bob', false],
    ]);
  });

  it('keeps a long text whole', () => {
    const long = `${'a'.repeat(3000)} *${'b'.repeat(900)}*`;
    expect(rendered(long).textContent).toBe(`${'a'.repeat(3000)} ${'b'.repeat(900)}`);
  });
});
