// `@name` in message text: the autocomplete of the composer and the highlighting of mentions.
// The same reading as the server's (parley/mentions.py): a name of 3-32 letters, digits, `_`, `.`
// and `-` after an `@` that does not follow a word character (so an e-mail address mentions
// nobody); "@bob." may mean bob followed by a full stop. Mentions are resolved case-insensitively
// among the room's members, and the message names them in `mentions`.

/** What the caret is in: `@` and the start of a name, from `start` (the `@`) to the caret. */
export interface MentionQuery {
  start: number;
  query: string;
}

const TRAILING_MENTION = /(?<![\w@])@([A-Za-z0-9_.-]{0,32})$/u;

/** The `@name` being typed just before `caret`, or null. */
export function mentionQueryAt(text: string, caret: number): MentionQuery | null {
  const match = TRAILING_MENTION.exec(text.slice(0, caret));
  if (!match) return null;
  const query = match[1]!;
  return { start: caret - query.length - 1, query };
}

export const MAX_SUGGESTIONS = 8;

/** Members whose name starts with `query` (case-insensitive), then those containing it; never `me`. */
export function suggestMembers(names: readonly string[], query: string, me: string | null): string[] {
  const wanted = query.toLowerCase();
  const others = names.filter((name) => me === null || name.toLowerCase() !== me.toLowerCase());
  const starting = others.filter((name) => name.toLowerCase().startsWith(wanted));
  const containing = others.filter((name) => !name.toLowerCase().startsWith(wanted) && name.toLowerCase().includes(wanted));
  const byName = (a: string, b: string) => a.localeCompare(b, undefined, { sensitivity: 'base' });
  return [...starting.sort(byName), ...containing.sort(byName)].slice(0, MAX_SUGGESTIONS);
}

/** `text` with the mention being typed replaced by `@name ` and where the caret goes then. */
export function insertMention(text: string, mention: MentionQuery, caret: number, name: string): { text: string; caret: number } {
  const inserted = `@${name} `;
  const rest = text.slice(caret).replace(/^[A-Za-z0-9_.-]*\s?/u, '');
  return { text: text.slice(0, mention.start) + inserted + rest, caret: mention.start + inserted.length };
}

export interface TextPart {
  text: string;
  /** The username this part mentions (as written in `mentions`), if it is a mention. */
  mention?: string;
}

const MENTION = /(?<![\w@])@([A-Za-z0-9_.-]{3,32})(?![A-Za-z0-9_@])/gu;

/** `text` cut into plain parts and the `@name` mentions of `mentions` (case-insensitive). */
export function splitMentions(text: string, mentions: readonly string[]): TextPart[] {
  if (mentions.length === 0) return [{ text }];
  const known = new Map(mentions.map((name) => [name.toLowerCase(), name]));
  const parts: TextPart[] = [];
  let from = 0;
  for (const match of text.matchAll(MENTION)) {
    const written = match[1]!;
    // "@bob." mentions bob when there is no member "bob.".
    const word = known.has(written.toLowerCase()) ? written : written.replace(/[.-]+$/u, '');
    const name = known.get(word.toLowerCase());
    if (name === undefined) continue;
    const at = match.index;
    if (at > from) parts.push({ text: text.slice(from, at) });
    const end = at + 1 + word.length;
    parts.push({ text: text.slice(at, end), mention: name });
    from = end;
  }
  if (from < text.length) parts.push({ text: text.slice(from) });
  return parts;
}
