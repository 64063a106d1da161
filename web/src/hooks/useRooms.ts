import { useCallback, useEffect, useState } from 'react';
import { api } from '../api';
import type { Room } from '../types';

export interface Rooms {
  rooms: Room[];
  error: string | null;
  /** Creates a room and returns it (its id is derived from the name by the server). */
  createRoom: (name: string) => Promise<Room>;
}

function byName(a: Room, b: Room): number {
  return a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });
}

/** The room list; fetched again whenever `current` changes, so rooms others made show up. */
export function useRooms(current: string): Rooms {
  const [rooms, setRooms] = useState<Room[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let active = true;
    api.listRooms().then(
      (list) => {
        if (!active) return;
        setRooms([...list].sort(byName));
        setError(null);
      },
      (failure: unknown) => {
        if (active) setError(failure instanceof Error ? failure.message : String(failure));
      },
    );
    return () => {
      active = false;
    };
  }, [current]);

  const createRoom = useCallback(async (name: string) => {
    const room = await api.createRoom(name);
    setRooms((list) => (list.some((entry) => entry.id === room.id) ? list : [...list, room].sort(byName)));
    return room;
  }, []);

  return { rooms, error, createRoom };
}
