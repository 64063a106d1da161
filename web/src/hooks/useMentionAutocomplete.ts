// `@` autocomplete in the composer: the members whose name starts with what follows the `@` at
// the caret, as a listbox the text box drives (aria-activedescendant): arrows move, Enter or
// Tab picks, Escape closes it until the next `@`.
import { useLayoutEffect, useRef, useState, type KeyboardEvent, type RefObject } from 'react';
import { insertMention, mentionQueryAt, suggestMembers } from '../lib/mentions';

export interface MentionAutocomplete {
  /** The names offered, empty when closed. */
  suggestions: string[];
  /** A mention is being typed: the names to offer are needed. */
  wanted: boolean;
  active: number;
  /** Call with the text box's caret on every change and selection. */
  track: (caret: number) => void;
  pick: (name: string) => void;
  /** Handles the key when the list is open; true when it did. */
  onKeyDown: (event: KeyboardEvent<HTMLTextAreaElement>) => boolean;
}

export function useMentionAutocomplete(
  text: string,
  setText: (text: string) => void,
  names: readonly string[],
  me: string | null,
  input: RefObject<HTMLTextAreaElement | null>,
): MentionAutocomplete {
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const nextCaret = useRef<number | null>(null);

  const query = mentionQueryAt(text, Math.min(caret, text.length));
  const open = query !== null && query.start !== dismissedAt;
  const suggestions = open ? suggestMembers(names, query.query, me) : [];
  const current = Math.min(active, Math.max(0, suggestions.length - 1));

  useLayoutEffect(() => {
    const field = input.current;
    if (nextCaret.current === null || !field) return;
    field.setSelectionRange(nextCaret.current, nextCaret.current);
    nextCaret.current = null;
  });

  const track = (position: number) => {
    if (position !== caret) setActive(0);
    setCaret(position);
  };

  const pick = (name: string) => {
    if (query === null) return;
    const inserted = insertMention(text, query, Math.min(caret, text.length), name);
    setText(inserted.text);
    setCaret(inserted.caret);
    setActive(0);
    nextCaret.current = inserted.caret;
    input.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (suggestions.length === 0 || event.nativeEvent.isComposing) return false;
    const step = event.key === 'ArrowDown' ? 1 : event.key === 'ArrowUp' ? -1 : 0;
    if (step !== 0) {
      setActive((current + step + suggestions.length) % suggestions.length);
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      if (event.shiftKey) return false;
      pick(suggestions[current]!);
    } else if (event.key === 'Escape') {
      setDismissedAt(query?.start ?? null);
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  };

  return { suggestions, wanted: open, active: current, track, pick, onKeyDown };
}
