import { useCallback, useEffect, useState } from 'react';
import { errorText } from '../errors';

export interface RoomList<T> {
  /** null until loaded (or when loading failed). */
  items: T[] | null;
  error: string | null;
  /** Changes the loaded list (nothing before it is loaded, or once the room changed). */
  update: (change: (items: T[]) => T[]) => void;
}

/** A list about `room` (its members, its bans), loaded by `load` while `enabled`. */
export function useRoomList<T>(room: string, enabled: boolean, load: (room: string) => Promise<T[]>): RoomList<T> {
  const [state, setState] = useState<{ room: string; items: T[] | null; error: string | null }>({
    room,
    items: null,
    error: null,
  });
  const current = state.room === room ? state : { room, items: null, error: null };

  useEffect(() => {
    if (!enabled) return;
    let active = true;
    load(room).then(
      (items) => active && setState({ room, items, error: null }),
      (failure: unknown) => active && setState({ room, items: null, error: errorText(failure) }),
    );
    return () => {
      active = false;
    };
  }, [room, enabled, load]);

  const update = useCallback(
    (change: (items: T[]) => T[]) =>
      setState((previous) =>
        previous.room !== room || previous.items === null ? previous : { ...previous, items: change(previous.items) },
      ),
    [room],
  );

  return { items: current.items, error: current.error, update };
}
