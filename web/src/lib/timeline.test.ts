// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { mergeMessages } from './messages';
import { dayLabel, timeline, timelineDays } from './timeline';
import type { Message } from '../types';

const now = new Date(2024, 4, 10, 15, 0, 0);
const local = (day: number, hour: number, minute: number) => new Date(2024, 4, day, hour, minute).toISOString();
let n = 0;
const message = (username: string, createdAt: string, fields: Partial<Message> = {}): Message => {
  n += 1;
  return { id: `01J${String(n).padStart(23, '0')}`, room: 'general', username, text: `m${n}`, createdAt, clientId: null, ...fields };
};

describe('dayLabel', () => {
  it('says Today, Yesterday, or the date', () => {
    expect(dayLabel(new Date(2024, 4, 10, 0, 1), now)).toBe('Today');
    expect(dayLabel(new Date(2024, 4, 9, 23, 59), now)).toBe('Yesterday');
    const older = dayLabel(new Date(2024, 4, 2, 12, 0), now);
    expect(older).not.toMatch(/Today|Yesterday/);
    expect(older).toMatch(/2024/);
  });
});

describe('timeline', () => {
  it('groups one person’s messages within 5 minutes, and starts a group on another author, a pause or a new day', () => {
    const messages = mergeMessages([], [
      message('bob', local(9, 23, 50)),
      message('bob', local(9, 23, 52)),
      message('BOB', local(10, 0, 1)), // a new day
      message('bob', local(10, 0, 4)),
      message('carol', local(10, 0, 5)), // another author
      message('bob', local(10, 0, 6)),
      message('bob', local(10, 0, 12)), // a pause of 6 minutes
    ]);
    const entries = timeline(messages, now);
    expect(entries.map((entry) => entry.head)).toEqual([true, false, true, false, true, true, true]);
    expect(entries.map((entry) => entry.day)).toEqual(['Yesterday', null, 'Today', null, null, null, null]);
    expect(timelineDays(messages, now).map((day) => [day.label, day.entries.length])).toEqual([
      ['Yesterday', 2],
      ['Today', 5],
    ]);
  });

  it('does not group under a deleted message', () => {
    const messages = mergeMessages([], [message('bob', local(10, 9, 0), { deleted: true, text: '' }), message('bob', local(10, 9, 1))]);
    expect(timeline(messages, now).map((entry) => entry.head)).toEqual([true, true]);
  });
});
