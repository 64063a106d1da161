import { lazy, Suspense, useState } from 'react';
import { errorText } from '../../errors';
import { normalizeEmoji } from '../../lib/reactions';
import { Dialog } from '../conversations/Dialog';

const EmojiPicker = lazy(() => import('./EmojiPicker'));

/** Offered at once, before the full picker has loaded. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢'];

interface ReactionDialogProps {
  /** Adds the reaction; rejects with what the server said (e.g. too many different emoji). */
  onReact: (emoji: string) => Promise<unknown>;
  onClose: () => void;
}

/** **Add reaction**: a few common emoji, and the full picker. */
export function ReactionDialog({ onReact, onClose }: ReactionDialogProps) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const pick = (emoji: string) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    onReact(normalizeEmoji(emoji)).then(onClose, (failure: unknown) => {
      setBusy(false);
      setError(errorText(failure));
    });
  };

  return (
    <Dialog title="Add reaction" onClose={onClose} className="reaction-dialog">
      <div className="quick-reactions" role="group" aria-label="Frequent reactions">
        {QUICK_REACTIONS.map((emoji) => (
          <button key={emoji} type="button" className="emoji-option" onClick={() => pick(emoji)} aria-label={`React with ${emoji}`}>
            {emoji}
          </button>
        ))}
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <Suspense fallback={<p className="emoji-status">Loading emoji…</p>}>
        <EmojiPicker onPick={pick} />
      </Suspense>
    </Dialog>
  );
}
