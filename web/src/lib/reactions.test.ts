import { describe, expect, it } from 'vitest';
import { hasReacted, reactedBy } from './reactions';

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
