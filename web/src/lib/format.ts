const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

function parse(iso: string): Date | null {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Local wall-clock time, HH:MM. */
export function formatClock(iso: string): string {
  const date = parse(iso);
  return date ? clock.format(date) : '';
}

/** The full local date and time, for a tooltip. */
export function formatFull(iso: string): string {
  const date = parse(iso);
  return date ? full.format(date) : iso;
}

/** "alice is typing…", "alice and bob are typing…", "4 people are typing…". */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  return `${names.length} people are typing…`;
}

/** Length in code points, as the server counts message text. */
export function codePointLength(text: string): number {
  return Array.from(text).length;
}

const day = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** How long ago, roughly: "just now", "5 min ago", "3 h ago", else the date. */
export function formatAgo(iso: string, now: number = Date.now()): string {
  const date = parse(iso);
  if (!date) return '';
  const seconds = Math.max(0, Math.floor((now - date.getTime()) / 1000));
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return day.format(date);
}
