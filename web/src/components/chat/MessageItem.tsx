import { memo } from 'react';
import { formatClock, formatFull } from '../../lib/format';
import type { ChatMessage } from '../../lib/messages';

interface MessageItemProps {
  message: ChatMessage;
  own: boolean;
  onRetry: (clientId: string) => void;
}

function className(message: ChatMessage, own: boolean): string {
  return ['message', own && 'own', `status-${message.status}`].filter(Boolean).join(' ');
}

export const MessageItem = memo(function MessageItem({ message, own, onRetry }: MessageItemProps) {
  const retry = () => {
    if (message.clientId) onRetry(message.clientId);
  };
  return (
    <li
      className={className(message, own)}
      data-testid="message"
      data-id={message.id ?? undefined}
      data-client-id={message.clientId ?? undefined}
      data-status={message.status}
      data-own={own ? 'true' : undefined}
    >
      <div className="message-meta">
        <span className="message-author">{message.username}</span>
        <time dateTime={message.createdAt} title={formatFull(message.createdAt)}>
          {formatClock(message.createdAt)}
        </time>
        {own && (
          <span className="message-status" data-testid="message-status">
            {message.status}
          </span>
        )}
      </div>
      {/* Text is rendered as text: React escapes it, nothing is ever parsed as HTML. */}
      <p className="message-text">{message.text}</p>
      {message.status === 'failed' && (
        <div className="message-failure">
          <span className="message-error">Not sent{message.error ? `: ${message.error}` : ''}</span>
          <button type="button" className="button small" onClick={retry}>
            Retry
          </button>
        </div>
      )}
    </li>
  );
});
