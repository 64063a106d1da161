import { memo, useState } from 'react';
import { errorText } from '../../errors';
import { formatClock, formatFull } from '../../lib/format';
import type { ChatMessage } from '../../lib/messages';
import { EditMessageForm } from './EditMessageForm';
import { MessageText } from './MessageText';
import { Reactions } from './Reactions';
import { ReplyQuote } from './ReplyQuote';

/** What a message's buttons do; one object for the whole list, so messages re-render only when they change. */
export interface MessageItemActions {
  retry: (clientId: string) => void;
  reply: (message: ChatMessage) => void;
  startEdit: (key: string) => void;
  stopEdit: () => void;
  saveEdit: (id: string, text: string) => Promise<unknown>;
  askDelete: (message: ChatMessage) => void;
  openReactions: (message: ChatMessage) => void;
  react: (id: string, emoji: string, on: boolean) => Promise<unknown>;
  jumpTo: (id: string) => void;
}

interface MessageItemProps {
  message: ChatMessage;
  /** The first of a group: its author and time are shown. */
  head: boolean;
  own: boolean;
  me: string | null;
  /** Its author, or an admin/owner of the room. */
  canDelete: boolean;
  editing: boolean;
  highlighted: boolean;
  actions: MessageItemActions;
}

function className(message: ChatMessage, own: boolean, head: boolean, highlighted: boolean): string {
  return ['message', own && 'own', head ? 'head' : 'grouped', highlighted && 'highlighted', `status-${message.status}`]
    .filter(Boolean)
    .join(' ');
}

export const MessageItem = memo(function MessageItem(props: MessageItemProps) {
  const { message, head, own, me, canDelete, editing, highlighted, actions } = props;
  const [menuOpen, setMenuOpen] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const id = message.id;
  const live = id !== null && !message.deleted;
  const mentionsMe = me !== null && message.mentions.includes(me.toLowerCase());

  const retry = () => {
    if (message.clientId) actions.retry(message.clientId);
  };
  const toggleReaction = (emoji: string, on: boolean) => {
    if (id === null) return;
    setActionError(null);
    actions.react(id, emoji, on).catch((failure: unknown) => setActionError(errorText(failure)));
  };

  return (
    <li
      className={className(message, own, head, highlighted)}
      data-testid="message"
      data-id={id ?? undefined}
      data-client-id={message.clientId ?? undefined}
      data-status={message.status}
      data-own={own ? 'true' : undefined}
    >
      <article
        className={mentionsMe ? 'message-body mentions-me' : 'message-body'}
        id={id === null ? undefined : `message-${id}`}
        tabIndex={-1}
        aria-label={`${message.username}, ${formatClock(message.createdAt)}`}
      >
        {message.replyTo && <ReplyQuote quote={message.replyTo} onJump={actions.jumpTo} />}
        <div className={head ? 'message-meta' : 'message-meta visually-hidden'}>
          <span className="message-author">{message.username}</span>
          <time dateTime={message.createdAt} title={formatFull(message.createdAt)}>
            {formatClock(message.createdAt)}
          </time>
        </div>
        {own && (
          <span className={message.status === 'sent' ? 'message-status visually-hidden' : 'message-status'} data-testid="message-status">
            {message.status}
          </span>
        )}
        {message.deleted ? (
          <p className="message-deleted">This message was deleted.</p>
        ) : editing && id !== null ? (
          <EditMessageForm text={message.text} onSave={(text) => actions.saveEdit(id, text)} onCancel={actions.stopEdit} />
        ) : (
          <>
            <MessageText text={message.text} mentions={message.mentions} me={me} />
            {message.editedAt && (
              <span className="message-edited" title={`Edited ${formatFull(message.editedAt)}`}>
                (edited)
              </span>
            )}
          </>
        )}
        {!message.deleted && <Reactions reactions={message.reactions} me={me} onToggle={toggleReaction} />}
        {actionError && (
          <p className="inline-error" role="alert">
            {actionError}
          </p>
        )}
        {message.status === 'failed' && (
          <div className="message-failure">
            <span className="message-error">Not sent{message.error ? `: ${message.error}` : ''}</span>
            <button type="button" className="button small" onClick={retry}>
              Retry
            </button>
          </div>
        )}
        {live && !editing && (
          <div className={menuOpen ? 'message-tools open' : 'message-tools'}>
            <button type="button" className="more-actions" aria-expanded={menuOpen} onClick={() => setMenuOpen(!menuOpen)}>
              <span aria-hidden="true">⋯</span>
              <span className="visually-hidden">More actions</span>
            </button>
            <div className="message-actions" role="group" aria-label="Message actions">
              <button type="button" onClick={() => actions.reply(message)}>
                Reply
              </button>
              <button type="button" onClick={() => actions.openReactions(message)}>
                Add reaction
              </button>
              {own && (
                <button type="button" onClick={() => actions.startEdit(message.key)}>
                  Edit
                </button>
              )}
              {canDelete && (
                <button type="button" onClick={() => actions.askDelete(message)}>
                  Delete
                </button>
              )}
            </div>
          </div>
        )}
      </article>
    </li>
  );
});
