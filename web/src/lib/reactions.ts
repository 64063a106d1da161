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

