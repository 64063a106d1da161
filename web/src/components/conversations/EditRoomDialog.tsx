import { useState, type FormEvent } from 'react';
import { api } from '../../api';
import type { Room } from '../../types';
import { useDialogSubmit } from '../../hooks/useDialogSubmit';
import { Dialog } from './Dialog';
import { DialogActions } from './DialogActions';

interface EditRoomDialogProps {
  room: { id: string; name: string; topic: string };
  onClose: () => void;
  onSaved: (room: Room) => void;
}

/** The dialog **Edit room** (admins and owners): its name and topic; the id stays. */
export function EditRoomDialog({ room, onClose, onSaved }: EditRoomDialogProps) {
  const [name, setName] = useState(room.name);
  const [topic, setTopic] = useState(room.topic);
  const { busy, error, submit } = useDialogSubmit();

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
    submit(() => api.updateRoom(room.id, changes), onSaved);
  };

  return (
    <Dialog title="Edit room" onClose={onClose}>
      <form className="dialog-form" onSubmit={onSubmit}>
        <label htmlFor="edit-room-name">Name</label>
        <input id="edit-room-name" data-autofocus type="text" maxLength={64} value={name} onChange={(event) => setName(event.target.value)} />
        <label htmlFor="edit-room-topic">Topic</label>
        <input id="edit-room-topic" type="text" maxLength={250} value={topic} onChange={(event) => setTopic(event.target.value)} />
        <DialogActions
          error={error}
          busy={busy}
          disabled={!name.trim()}
          label="Save"
          busyLabel="Saving…"
          onCancel={onClose}
        />
      </form>
    </Dialog>
  );
}
