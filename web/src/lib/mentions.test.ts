// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { insertMention, MAX_SUGGESTIONS, mentionQueryAt, splitMentions, suggestMembers } from './mentions';

describe('mentionQueryAt', () => {
  it('finds the @name being typed before the caret', () => {
    expect(mentionQueryAt('hi @bo', 6)).toEqual({ start: 3, query: 'bo' });
    expect(mentionQueryAt('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQueryAt('hi @bob and more', 7)).toEqual({ start: 3, query: 'bob' });
  });

  it('is not a mention after a word character (an e-mail address), a space, or without @', () => {
    expect(mentionQueryAt('mail bob@exa', 12)).toBeNull();
    expect(mentionQueryAt('hi @bob ', 8)).toBeNull();
    expect(mentionQueryAt('hello', 5)).toBeNull();
    expect(mentionQueryAt('@@bob', 5)).toBeNull();
  });
});

describe('suggestMembers', () => {
  const names = ['Bob', 'alice', 'bobby', 'robert', 'carol', 'Abbot'];

  it('offers names starting with the query first, then containing it, case-insensitively, never me', () => {
    expect(suggestMembers(names, 'bo', 'alice')).toEqual(['Bob', 'bobby', 'Abbot']);
    expect(suggestMembers(names, 'BOB', null)).toEqual(['Bob', 'bobby']);
    expect(suggestMembers(names, '', 'ALICE')).toEqual(['Abbot', 'Bob', 'bobby', 'carol', 'robert']);
    expect(suggestMembers(names, 'zed', null)).toEqual([]);
  });

  it('offers at most a few', () => {
    const many = Array.from({ length: 30 }, (_, n) => `user${n}`);
    expect(suggestMembers(many, 'user', null)).toHaveLength(MAX_SUGGESTIONS);
  });
});

describe('insertMention', () => {
  it('replaces what was typed with @name and a space, and puts the caret after it', () => {
    expect(insertMention('hi @bo', { start: 3, query: 'bo' }, 6, 'bobby')).toEqual({ text: 'hi @bobby ', caret: 10 });
    expect(insertMention('@b see you', { start: 0, query: 'b' }, 2, 'bob')).toEqual({ text: '@bob see you', caret: 5 });
  });
});

describe('splitMentions', () => {
  it('marks the mentions the server resolved, case-insensitively, and leaves the rest as text', () => {
    expect(splitMentions('hi @Bob and @carol, see @nobody', ['bob', 'carol'])).toEqual([
      { text: 'hi ' },
      { text: '@Bob', mention: 'bob' },
      { text: ' and ' },
      { text: '@carol', mention: 'carol' },
      { text: ', see @nobody' },
    ]);
  });

  it('reads "@bob." as bob and a full stop; an e-mail address mentions nobody', () => {
    expect(splitMentions('thanks @bob.', ['bob'])).toEqual([{ text: 'thanks ' }, { text: '@bob', mention: 'bob' }, { text: '.' }]);
    expect(splitMentions('write to alice@bob.com', ['bob'])).toEqual([{ text: 'write to alice@bob.com' }]);
    expect(splitMentions('no mentions', [])).toEqual([{ text: 'no mentions' }]);
  });
});
