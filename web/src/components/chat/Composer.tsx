import { useEffect, useRef } from 'react';
import { useComposer } from '../../hooks/useComposer';

interface ComposerProps {
  room: string;
  roomName: string;
  disabled?: boolean;
  onSend: (text: string) => void;
  onTyping: () => void;
}

/** Focus follows the room on devices with a keyboard; on phones it would pop the keyboard up. */
function hasFinePointer(): boolean {
  return typeof window.matchMedia === 'function' && window.matchMedia('(pointer: fine)').matches;
}

export function Composer({ room, roomName, disabled = false, onSend, onTyping }: ComposerProps) {
  const composer = useComposer(onSend, onTyping);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (hasFinePointer()) input.current?.focus();
  }, [room]);

  return (
    <form className="composer" onSubmit={composer.onSubmit}>
      <label htmlFor="composer-input" className="visually-hidden">
        Message
      </label>
      <textarea
        ref={input}
        id="composer-input"
        name="message"
        rows={1}
        placeholder={`Message #${roomName}`}
        value={composer.text}
        disabled={disabled}
        onChange={composer.onChange}
        onKeyDown={composer.onKeyDown}
        aria-invalid={composer.error ? true : undefined}
        aria-describedby={composer.error ? 'composer-help composer-error' : 'composer-help'}
      />
      <button type="submit" className="button primary" disabled={disabled || !composer.canSend}>
        Send
      </button>
      <p id="composer-help" className="visually-hidden">
        Enter sends, Shift+Enter starts a new line.
      </p>
      {composer.error && (
        <p id="composer-error" className="field-error composer-error">
          {composer.error}
        </p>
      )}
    </form>
  );
}
