// Which link targets message text may carry: only schemes that navigate to a page or open a mail
// client. `javascript:`, `data:`, `vbscript:`, relative and protocol-relative URLs (which would
// act on this origin) are refused (OWASP XSS Prevention Cheat Sheet, "Rule 5").
const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:']);

/** `url` when it is an absolute http, https or mailto URL, else null. */
export function safeUrl(url: string): string | null {
  // The URL parser drops tabs and newlines and trims control characters, as browsers do; a
  // scheme check on the raw string could be fooled by "java\tscript:".
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  return SAFE_SCHEMES.has(parsed.protocol) ? url : null;
}
