import { typingText } from '../../lib/format';

export function TypingIndicator({ typists }: { typists: string[] }) {
  return (
    <p className="typing" aria-live="polite" data-testid="typing-indicator">
      {typingText(typists)}
    </p>
  );
}
