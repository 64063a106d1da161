import { useEffect, useState } from 'react';
import { api } from '../api';
import type { Room } from '../types';

/**
 * A room the user is not a member of (a public room opened to read): what the server says of it,
 * for its header. Nothing is asked while `needed` is false.
 */
export function useRoomInfo(room: string, needed: boolean): Room | null {
  const [info, setInfo] = useState<Room | null>(null);
  useEffect(() => {
    if (!needed) return;
    let active = true;
    api.getRoom(room).then(
      (found) => active && setInfo(found),
      () => {
        // The join says what is wrong with the room.
      },
    );
    return () => {
      active = false;
    };
  }, [room, needed]);
  return info !== null && info.id === room ? info : null;
}
