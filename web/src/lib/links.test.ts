// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { safeUrl } from './links';

describe('safeUrl', () => {
  it('keeps absolute http, https and mailto links', () => {
    for (const url of ['https://example.com/a?b=c#d', 'http://example.com', 'mailto:bob@example.com', 'HTTPS://EXAMPLE.COM']) {
      expect(safeUrl(url)).toBe(url);
    }
  });

  it('refuses script, data and other schemes, however they are written', () => {
    for (const url of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'java\nscript:alert(1)',
      '\u0000javascript:alert(1)',
      'vbscript:msgbox(1)',
      'data:text/html,<script>alert(1)</script>',
      'file:///etc/passwd',
      'ftp://example.com',
    ]) {
      expect(safeUrl(url), url).toBeNull();
    }
  });

  it('refuses relative and protocol-relative links, which would act on this origin', () => {
    for (const url of ['/api/auth/logout', '../x', '//evil.example/x', '#top', '']) {
      expect(safeUrl(url), url).toBeNull();
    }
  });
});
