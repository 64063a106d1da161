import { useCallback, useState, type ChangeEvent, type FormEvent, type KeyboardEvent } from 'react';
import { codePointLength } from '../lib/format';

/** The server's limit on message text, in code points after trimming (docs/reference.md). */
export const MAX_MESSAGE_LENGTH = 4000;

export interface Composer {
  text: string;
  setText: (text: string) => void;
  error: string | null;
  canSend: boolean;
  onChange: (event: ChangeEvent<HTMLTextAreaElement>) => void;
  onKeyDown: (event: KeyboardEvent<HTMLTextAreaElement>) => void;
  onSubmit: (event: FormEvent<HTMLFormElement>) => void;
}

export function useComposer(send: (text: string) => void, notifyTyping: () => void): Composer {
  const [text, setText] = useState('');
  const trimmed = text.trim();
  const length = codePointLength(trimmed);
  const error =
    length > MAX_MESSAGE_LENGTH ? `Too long: ${length} of at most ${MAX_MESSAGE_LENGTH} characters` : null;
  const canSend = length > 0 && error === null;

  const submit = useCallback(() => {
    if (!canSend) return;
    send(trimmed);
    setText('');
  }, [canSend, send, trimmed]);

  const onChange = useCallback(
    (event: ChangeEvent<HTMLTextAreaElement>) => {
      setText(event.target.value);
      if (event.target.value.trim()) notifyTyping();
    },
    [notifyTyping],
  );

  const onKeyDown = useCallback(
    (event: KeyboardEvent<HTMLTextAreaElement>) => {
      // Enter sends; Shift+Enter is a new line; Enter that confirms an IME composition is neither.
      if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
      event.preventDefault();
      submit();
    },
    [submit],
  );

  const onSubmit = useCallback(
    (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      submit();
    },
    [submit],
  );

  return { text, setText, error, canSend, onChange, onKeyDown, onSubmit };
}
