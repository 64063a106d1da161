import { useState, type FormEvent } from 'react';
import { ApiError, api } from '../../api';
import { errorText } from '../../errors';
import type { Room } from '../../types';
import { Dialog } from './Dialog';

interface NewMessageDialogProps {
  onClose: () => void;
  onStarted: (room: Room) => void;
}

function startError(failure: unknown, username: string): string {
  if (failure instanceof ApiError && failure.code === 'not_found') return `There is no user named ${username}.`;
  if (failure instanceof ApiError && failure.code === 'invalid') return 'That is not a valid username.';
  return errorText(failure);
}

/** The dialog **New message**: starts (or reopens) the direct messages with one person. */
export function NewMessageDialog({ onClose, onStarted }: NewMessageDialogProps) {
  const [username, setUsername] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const trimmed = username.trim().replace(/^@/, '');

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!trimmed || busy) return;
    setBusy(true);
    setError(null);
    api.startDm(trimmed).then(
      (room) => {
        setBusy(false);
        onStarted(room);
      },
      (failure: unknown) => {
        setBusy(false);
        setError(startError(failure, trimmed));
      },
    );
  };

  return (
    <Dialog title="New message" onClose={onClose}>
      <form className="dialog-form" onSubmit={onSubmit}>
        <label htmlFor="new-dm-username">Username</label>
        <input
          id="new-dm-username"
          data-autofocus
          name="username"
          type="text"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          value={username}
          onChange={(event) => setUsername(event.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'new-dm-error' : undefined}
        />
        {error && (
          <p id="new-dm-error" className="field-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button subtle" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={!trimmed || busy}>
            {busy ? 'Starting…' : 'Start'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
