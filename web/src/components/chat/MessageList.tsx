import { Fragment, useCallback, useEffect, useMemo, useState } from 'react';
import { useChatScroll } from '../../hooks/useChatScroll';
import type { ChatMessage } from '../../lib/messages';
import { timelineDays } from '../../lib/timeline';
import { MessageItem, type MessageItemActions } from './MessageItem';

/** How long a message jumped to stays highlighted. */
const HIGHLIGHT_MS = 2_000;

interface MessageListProps {
  roomName: string;
  messages: ChatMessage[];
  me: string | null;
  joined: boolean;
  /** The room could not be joined (e.g. it does not exist); the reason is shown above. */
  unavailable: boolean;
  hasOlder: boolean;
  loadingOlder: boolean;
  olderError: string | null;
  onLoadOlder: () => void;
  /** The message buttons (memoised: each change re-renders every message); `jumpTo` is the list's own. */
  actions: Omit<MessageItemActions, 'jumpTo'>;
  /** The key of the message being edited. */
  editing: string | null;
  /** The reader may delete others' messages (an admin or owner of the room). */
  moderator: boolean;
  /**
   * Where the user had read up to when the room was opened (undefined: no divider): a **New
   * messages** divider goes above the first later message of someone else.
   */
  unreadAfter?: string | null;
  onAtBottom?: (atBottom: boolean) => void;
}

const isOwn = (message: ChatMessage, me: string | null) =>
  me !== null && message.username.toLowerCase() === me.toLowerCase();

/** The key of the first message of someone else after `lastRead`, or null. */
export function firstUnreadKey(messages: readonly ChatMessage[], me: string | null, lastRead: string | null): string | null {
  const first = messages.find(
    (message) => message.id !== null && (lastRead === null || message.id > lastRead) && !isOwn(message, me),
  );
  return first?.key ?? null;
}

function emptyText(joined: boolean, unavailable: boolean): string {
  if (unavailable) return 'This room cannot be shown.';
  return joined ? 'No messages yet. Say hello!' : 'Loading messages…';
}

export function MessageList(props: MessageListProps) {
  const { messages, me, hasOlder, loadingOlder, onLoadOlder, actions, editing, moderator, unreadAfter, onAtBottom } = props;
  const dividerBefore = unreadAfter === undefined ? null : firstUnreadKey(messages, me, unreadAfter);
  const last = messages.at(-1);
  const { ref, onScroll } = useChatScroll({
    firstKey: messages[0]?.key,
    lastKey: last?.key,
    count: messages.length,
    forceToBottom: last !== undefined && last.status === 'pending' && isOwn(last, me),
    onReachTop: hasOlder && !loadingOlder ? onLoadOlder : noop,
    onAtBottom,
    anchor: dividerBefore,
  });
  const [highlighted, setHighlighted] = useState<string | null>(null);

  useEffect(() => {
    if (highlighted === null) return;
    const timer = setTimeout(() => setHighlighted(null), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [highlighted]);

  // A reply's quote shows its parent when it is loaded; older history is not fetched for it.
  const jumpTo = useCallback(
    (id: string) => {
      const target = ref.current?.querySelector<HTMLElement>(`[id="message-${CSS.escape(id)}"]`);
      if (!target) return;
      target.scrollIntoView({ block: 'center' });
      target.focus({ preventScroll: true });
      setHighlighted(id);
    },
    [ref],
  );
  const itemActions = useMemo(() => ({ ...actions, jumpTo }), [actions, jumpTo]);

  return (
    <div
      ref={ref}
      onScroll={onScroll}
      className="messages"
      role="log"
      aria-live="polite"
      aria-label={`Messages in #${props.roomName}`}
      tabIndex={0}
    >
      {hasOlder && (
        <button type="button" className="button subtle load-older" onClick={onLoadOlder} disabled={loadingOlder}>
          {loadingOlder ? 'Loading older messages…' : 'Load older messages'}
        </button>
      )}
      {props.olderError && <p className="inline-error">Could not load older messages: {props.olderError}</p>}
      {messages.length === 0 ? (
        <p className="empty">{emptyText(props.joined, props.unavailable)}</p>
      ) : (
        timelineDays(messages).map((day) => (
          <section key={day.key} className="day" aria-label={day.label}>
            <h3 className="day-divider" data-testid="day-divider">
              <span>{day.label}</span>
            </h3>
            <ol className="message-list">
              {day.entries.map(({ message, head }) => (
                <Fragment key={message.key}>
                  {message.key === dividerBefore && (
                    <li
                      className="unread-divider"
                      role="separator"
                      aria-label="New messages"
                      data-testid="unread-divider"
                      data-scroll-anchor
                    >
                      <span aria-hidden="true">New messages</span>
                    </li>
                  )}
                  <MessageItem
                    message={message}
                    head={head || message.key === dividerBefore}
                    own={isOwn(message, me)}
                    me={me}
                    canDelete={isOwn(message, me) || moderator}
                    editing={message.key === editing}
                    highlighted={message.id !== null && message.id === highlighted}
                    actions={itemActions}
                  />
                </Fragment>
              ))}
            </ol>
          </section>
        ))
      )}
    </div>
  );
}

function noop() {}
