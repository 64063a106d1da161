import { useState, type ChangeEvent, type FormEvent } from 'react';
import type { Room } from '../../types';

const MAX_ROOM_NAME = 64;

interface CreateRoomFormProps {
  createRoom: (name: string) => Promise<Room>;
  onCreated: (room: Room) => void;
}

export function CreateRoomForm({ createRoom, onCreated }: CreateRoomFormProps) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const trimmed = name.trim();

  const onChange = (event: ChangeEvent<HTMLInputElement>) => {
    setName(event.target.value);
    setError(null);
  };

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!trimmed || busy) return;
    setBusy(true);
    createRoom(trimmed).then(
      (room) => {
        setBusy(false);
        setName('');
        onCreated(room);
      },
      (failure: unknown) => {
        setBusy(false);
        setError(failure instanceof Error ? failure.message : String(failure));
      },
    );
  };

  return (
    <form className="sidebar-section create-room" onSubmit={onSubmit}>
      <label htmlFor="new-room-name" className="sidebar-heading">
        New room
      </label>
      <div className="inline-form">
        <input
          id="new-room-name"
          name="name"
          type="text"
          maxLength={MAX_ROOM_NAME}
          placeholder="e.g. Lunch"
          value={name}
          onChange={onChange}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'new-room-error' : undefined}
        />
        <button type="submit" className="button" disabled={!trimmed || busy}>
          {busy ? 'Creating…' : 'Create'}
        </button>
      </div>
      {error && (
        <p id="new-room-error" className="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
