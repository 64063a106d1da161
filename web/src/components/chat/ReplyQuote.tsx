import type { ReplyQuote as Quote } from '../../types';

interface ReplyQuoteProps {
  quote: Quote;
  onJump: (id: string) => void;
}

/** The parent of a reply, above it; a click shows the parent when it is loaded. */
export function ReplyQuote({ quote, onJump }: ReplyQuoteProps) {
  const deleted = quote.text === '';
  return (
    <button type="button" className={deleted ? 'reply-quote deleted' : 'reply-quote'} onClick={() => onJump(quote.id)}>
      <span className="visually-hidden">In reply to </span>
      <span className="reply-author">{quote.username}</span>{' '}
      <span className="reply-text">{deleted ? 'Original message was deleted.' : quote.text}</span>
    </button>
  );
}
