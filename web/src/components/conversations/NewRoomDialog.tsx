import { useState, type FormEvent } from 'react';
import { api } from '../../api';
import type { Room } from '../../types';
import { useDialogSubmit } from '../../hooks/useDialogSubmit';
import { Dialog } from './Dialog';
import { DialogActions } from './DialogActions';

const MAX_ROOM_NAME = 64;
const MAX_TOPIC = 250;

interface NewRoomDialogProps {
  onClose: () => void;
  onCreated: (room: Room) => void;
}

/** The dialog **New room**: a name, a topic, public or private. */
export function NewRoomDialog({ onClose, onCreated }: NewRoomDialogProps) {
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [isPrivate, setPrivate] = useState(false);
  const { busy, error, submit } = useDialogSubmit();
  const trimmed = name.trim();

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!trimmed) return;
    // Only what differs from the default (a public room without topic) is sent.
    const options = { ...(isPrivate && { kind: 'private' as const }), ...(topic.trim() && { topic: topic.trim() }) };
    submit(() => api.createRoom(trimmed, options), onCreated);
  };

  return (
    <Dialog title="New room" onClose={onClose}>
      <form className="dialog-form" onSubmit={onSubmit}>
        <label htmlFor="new-room-name">Name</label>
        <input
          id="new-room-name"
          data-autofocus
          name="name"
          type="text"
          maxLength={MAX_ROOM_NAME}
          placeholder="e.g. Lunch"
          value={name}
          onChange={(event) => setName(event.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'new-room-error' : undefined}
        />
        <label htmlFor="new-room-topic">Topic</label>
        <input
          id="new-room-topic"
          name="topic"
          type="text"
          maxLength={MAX_TOPIC}
          placeholder="What it is about (optional)"
          value={topic}
          onChange={(event) => setTopic(event.target.value)}
        />
        <label className="checkbox">
          <input type="checkbox" checked={isPrivate} onChange={(event) => setPrivate(event.target.checked)} />
          Private
        </label>
        <p className="hint">
          {isPrivate ? 'Only people you add can find and read it.' : 'Anyone can find it under Browse rooms.'}
        </p>
        <DialogActions
          error={error}
          errorId="new-room-error"
          busy={busy}
          disabled={!trimmed}
          label="Create"
          busyLabel="Creating…"
          onCancel={onClose}
        />
      </form>
    </Dialog>
  );
}
