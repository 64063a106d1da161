import { useChatScroll } from '../../hooks/useChatScroll';
import type { ChatMessage } from '../../lib/messages';
import { MessageItem } from './MessageItem';

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
  onRetry: (clientId: string) => void;
}

const isOwn = (message: ChatMessage, me: string | null) =>
  me !== null && message.username.toLowerCase() === me.toLowerCase();

function emptyText(joined: boolean, unavailable: boolean): string {
  if (unavailable) return 'This room cannot be shown.';
  return joined ? 'No messages yet. Say hello!' : 'Loading messages…';
}

export function MessageList(props: MessageListProps) {
  const { messages, me, hasOlder, loadingOlder, onLoadOlder, onRetry } = props;
  const last = messages.at(-1);
  const { ref, onScroll } = useChatScroll({
    firstKey: messages[0]?.key,
    lastKey: last?.key,
    count: messages.length,
    forceToBottom: last !== undefined && last.status === 'pending' && isOwn(last, me),
    onReachTop: hasOlder && !loadingOlder ? onLoadOlder : noop,
  });

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
        <ol className="message-list">
          {messages.map((message) => (
            <MessageItem key={message.key} message={message} own={isOwn(message, me)} onRetry={onRetry} />
          ))}
        </ol>
      )}
    </div>
  );
}

function noop() {}
