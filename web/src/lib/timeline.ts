// How a room's messages are laid out: a date line between days, and consecutive messages of one
// person within a few minutes grouped under one name and time.
import type { ChatMessage } from './messages';

/** Messages of one author closer than this (and on the same day) share one header. */
export const GROUP_WINDOW_MS = 5 * 60_000;

export interface TimelineEntry {
  message: ChatMessage;
  /** A date line goes above this message: "Today", "Yesterday" or the date. */
  day: string | null;
  /** The first of its group: its author and time are shown. */
  head: boolean;
}

const dateLabel = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

function localDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/** "Today", "Yesterday" or the full local date of `date`, seen at `now`. */
export function dayLabel(date: Date, now: Date): string {
  const days = Math.round((localDay(now) - localDay(date)) / 86_400_000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return dateLabel.format(date);
}

const sameAuthor = (a: ChatMessage, b: ChatMessage) => a.username.toLowerCase() === b.username.toLowerCase();

/** The messages in order, each with its date line (if a new day starts) and whether it heads a group. */
export function timeline(messages: readonly ChatMessage[], now: Date = new Date()): TimelineEntry[] {
  let previous: { message: ChatMessage; time: number; day: number } | null = null;
  return messages.map((message) => {
    const date = new Date(message.createdAt);
    const time = Number.isNaN(date.getTime()) ? 0 : date.getTime();
    const day = localDay(date);
    const newDay = previous === null || day !== previous.day;
    const head =
      newDay ||
      previous === null ||
      !sameAuthor(previous.message, message) ||
      previous.message.deleted ||
      time - previous.time > GROUP_WINDOW_MS ||
      time < previous.time;
    previous = { message, time, day };
    return { message, day: newDay ? dayLabel(date, now) : null, head };
  });
}

export interface TimelineDay {
  /** "Today", "Yesterday" or the date. */
  label: string;
  /** The key of its first message, stable while the day is shown. */
  key: string;
  entries: TimelineEntry[];
}

/** `timeline` cut into days, each under its date line. */
export function timelineDays(messages: readonly ChatMessage[], now: Date = new Date()): TimelineDay[] {
  const days: TimelineDay[] = [];
  for (const entry of timeline(messages, now)) {
    if (entry.day !== null || days.length === 0) days.push({ label: entry.day ?? '', key: entry.message.key, entries: [] });
    days.at(-1)!.entries.push(entry);
  }
  return days;
}
