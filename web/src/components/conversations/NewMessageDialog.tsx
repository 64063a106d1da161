import { useState, type FormEvent } from 'react';
import { ApiError, api } from '../../api';
import { errorText } from '../../errors';
import type { Room } from '../../types';
import { useDialogSubmit } from '../../hooks/useDialogSubmit';
import { Dialog } from './Dialog';
import { DialogActions } from './DialogActions';

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
  const { busy, error, submit } = useDialogSubmit();
  const trimmed = username.trim().replace(/^@/, '');

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!trimmed) return;
    submit(() => api.startDm(trimmed), onStarted, (failure) => startError(failure, trimmed));
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
        <DialogActions
          error={error}
          errorId="new-dm-error"
          busy={busy}
          disabled={!trimmed}
          label="Start"
          busyLabel="Starting…"
          onCancel={onClose}
        />
      </form>
    </Dialog>
  );
}
