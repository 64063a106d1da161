import { useEffect, useId, useRef, type KeyboardEvent } from 'react';
import { useComposer } from '../../hooks/useComposer';
import { useMentionAutocomplete } from '../../hooks/useMentionAutocomplete';
import type { ChatMessage } from '../../lib/messages';

interface ComposerProps {
  room: string;
  roomName: string;
  disabled?: boolean;
  onSend: (text: string) => void;
  onTyping: () => void;
  /** The message being answered, shown above the text box until sent or cancelled. */
  replyingTo?: ChatMessage | null;
  onCancelReply?: () => void;
  /** The room's members, offered after `@`. */
  members?: readonly string[];
  /** A mention is being typed: `members` are wanted (loaded only then). */
  onNeedMembers?: () => void;
  me?: string | null;
  /** Up arrow in an empty composer: edit the reader's last message; false if there is none. */
  onEditLast?: () => boolean;
}

/** Focus follows the room on devices with a keyboard; on phones it would pop the keyboard up. */
function hasFinePointer(): boolean {
  return typeof window.matchMedia === 'function' && window.matchMedia('(pointer: fine)').matches;
}

const NO_MEMBERS: readonly string[] = [];

export function Composer(props: ComposerProps) {
  const { room, roomName, disabled = false, onSend, onTyping, replyingTo = null, onCancelReply, members = NO_MEMBERS, onNeedMembers, me = null, onEditLast } = props;
  const composer = useComposer(onSend, onTyping);
  const input = useRef<HTMLTextAreaElement>(null);
  const mention = useMentionAutocomplete(composer.text, composer.setText, members, me, input);
  const listId = useId();
  const open = mention.suggestions.length > 0;

  useEffect(() => {
    if (hasFinePointer()) input.current?.focus();
  }, [room]);

  useEffect(() => {
    if (mention.wanted) onNeedMembers?.();
  }, [mention.wanted, onNeedMembers]);

  const replyKey = replyingTo?.key;
  useEffect(() => {
    if (replyKey !== undefined) input.current?.focus();
  }, [replyKey]);

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (mention.onKeyDown(event)) return;
    if (event.key === 'Escape' && replyingTo) {
      event.preventDefault();
      onCancelReply?.();
      return;
    }
    if (event.key === 'ArrowUp' && composer.text === '' && onEditLast?.()) {
      event.preventDefault();
      return;
    }
    composer.onKeyDown(event);
  };

  const describedBy = ['composer-help', composer.error && 'composer-error'].filter(Boolean).join(' ');

  return (
    <form className="composer" onSubmit={composer.onSubmit}>
      {replyingTo && (
        <div className="composer-reply" role="status">
          <span>
            Replying to <strong>{replyingTo.username}</strong>
          </span>
          <span className="composer-reply-text">{replyingTo.text}</span>
          <button type="button" className="button subtle small" onClick={onCancelReply} aria-label={`Cancel reply to ${replyingTo.username}`}>
            Cancel reply
          </button>
        </div>
      )}
      <label htmlFor="composer-input" className="visually-hidden">
        Message
      </label>
      <div className="composer-field">
        <textarea
          ref={input}
          id="composer-input"
          name="message"
          rows={1}
          placeholder={`Message #${roomName}`}
          value={composer.text}
          disabled={disabled}
          onChange={(event) => {
            composer.onChange(event);
            mention.track(event.target.selectionStart);
          }}
          onSelect={(event) => mention.track(event.currentTarget.selectionStart)}
          onKeyDown={onKeyDown}
          aria-invalid={composer.error ? true : undefined}
          aria-describedby={describedBy}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-activedescendant={open ? `${listId}-${mention.active}` : undefined}
        />
        {open && (
          <ul id={listId} className="mention-list" role="listbox" aria-label="Members to mention">
            {mention.suggestions.map((name, index) => (
              <li
                key={name}
                id={`${listId}-${index}`}
                role="option"
                aria-selected={index === mention.active}
                onMouseDown={(event) => {
                  event.preventDefault(); // keep the focus in the text box
                  mention.pick(name);
                }}
              >
                @{name}
              </li>
            ))}
          </ul>
        )}
      </div>
      <button type="submit" className="button primary" disabled={disabled || !composer.canSend}>
        Send
      </button>
      <p id="composer-help" className="visually-hidden">
        Enter sends, Shift+Enter starts a new line. Up arrow edits your last message. Type @ to mention someone.
      </p>
      {composer.error && (
        <p id="composer-error" className="field-error composer-error">
          {composer.error}
        </p>
      )}
    </form>
  );
}
