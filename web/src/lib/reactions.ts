// Reactions as the message shows them: a toggle per emoji, its count, and who reacted.
import type { Reaction } from '../types';

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function hasReacted(reaction: Reaction, me: string | null): boolean {
  return me !== null && reaction.users.some((user) => same(user, me));
}

/** "alice", "alice and you", "alice, bob and carol": who reacted, for a tooltip and screen readers. */
export function reactedBy(reaction: Reaction, me: string | null): string {
  const names = reaction.users.map((user) => (me !== null && same(user, me) ? 'you' : user));
  const mine = names.indexOf('you');
  if (mine > 0) names.unshift(...names.splice(mine, 1));
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}


/**
 * The emoji as the server's list has it: a VS16 (U+FE0F) after a character that is shown as an
 * emoji anyway is dropped ("👍\uFE0F" is "👍"), as Unicode's emoji-test.txt lists the fully
 * qualified form without it; where VS16 makes the emoji ("❤\uFE0F") it stays.
 */
export function normalizeEmoji(emoji: string): string {
  return emoji.replace(/(\p{Emoji_Presentation})\uFE0F/gu, '$1');
}
