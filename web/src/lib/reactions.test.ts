// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { hasReacted, normalizeEmoji, reactedBy } from './reactions';

describe('reactions', () => {
  it('says who reacted, the reader first as "you"', () => {
    expect(reactedBy({ emoji: '👍', users: ['bob'] }, 'alice')).toBe('bob');
    expect(reactedBy({ emoji: '👍', users: ['bob', 'Alice'] }, 'alice')).toBe('you and bob');
    expect(reactedBy({ emoji: '👍', users: ['bob', 'carol', 'dave'] }, null)).toBe('bob, carol and dave');
  });

  it('knows whether the reader reacted, case-insensitively', () => {
    expect(hasReacted({ emoji: '🎉', users: ['Alice'] }, 'alice')).toBe(true);
    expect(hasReacted({ emoji: '🎉', users: ['bob'] }, 'alice')).toBe(false);
    expect(hasReacted({ emoji: '🎉', users: ['bob'] }, null)).toBe(false);
  });
});

describe('normalizeEmoji', () => {
  it('drops a VS16 after a character shown as emoji anyway, keeps the one that makes an emoji', () => {
    expect(normalizeEmoji('\u{1F44D}\uFE0F')).toBe('\u{1F44D}');
    expect(normalizeEmoji('\u{1F44D}')).toBe('\u{1F44D}');
    expect(normalizeEmoji('\u2764\uFE0F')).toBe('\u2764\uFE0F');
    expect(normalizeEmoji('\u{1F44D}\u{1F3FD}')).toBe('\u{1F44D}\u{1F3FD}');
    expect(normalizeEmoji('\u{1F1EB}\u{1F1F7}')).toBe('\u{1F1EB}\u{1F1F7}');
  });
});
