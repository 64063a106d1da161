import { useState, type FormEvent } from 'react';
import { api } from '../../api';
import { errorText } from '../../errors';
import type { Room } from '../../types';
import { Dialog } from './Dialog';

interface EditRoomDialogProps {
  room: { id: string; name: string; topic: string };
  onClose: () => void;
  onSaved: (room: Room) => void;
}

/** The dialog **Edit room** (admins and owners): its name and topic; the id stays. */
export function EditRoomDialog({ room, onClose, onSaved }: EditRoomDialogProps) {
  const [name, setName] = useState(room.name);
  const [topic, setTopic] = useState(room.topic);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!name.trim() || busy) return;
    const changes = {
      ...(name.trim() !== room.name && { name: name.trim() }),
      ...(topic.trim() !== room.topic && { topic: topic.trim() }),
    };
    if (Object.keys(changes).length === 0) {
      onClose();
      return;
    }
    setBusy(true);
    api.updateRoom(room.id, changes).then(
      (saved) => {
        setBusy(false);
        onSaved(saved);
      },
      (failure: unknown) => {
        setBusy(false);
        setError(errorText(failure));
      },
    );
  };

  return (
    <Dialog title="Edit room" onClose={onClose}>
      <form className="dialog-form" onSubmit={onSubmit}>
        <label htmlFor="edit-room-name">Name</label>
        <input id="edit-room-name" data-autofocus type="text" maxLength={64} value={name} onChange={(event) => setName(event.target.value)} />
        <label htmlFor="edit-room-topic">Topic</label>
        <input id="edit-room-topic" type="text" maxLength={250} value={topic} onChange={(event) => setTopic(event.target.value)} />
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button subtle" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy || !name.trim()}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
