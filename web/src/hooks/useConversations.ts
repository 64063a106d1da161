// The user's conversations for the sidebar: loaded from GET /api/rooms, kept live by the user's
// own socket events (room_added, room_removed, room_updated, member, read, mention) and by the
// `message` events of every room the socket is in, which count unread as they arrive.
import { useCallback, useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from 'react';
import { api } from '../api';
import { useAuth } from '../auth/AuthProvider';
import { errorText } from '../errors';
import {
  conversationsReducer,
  initialConversations,
  needsRecount,
  sidebarLists,
  totalUnread,
  type Conversation,
  type ConversationsAction,
  type ConversationsState,
} from '../lib/conversations';
import { useSocket } from '../realtime/SocketProvider';
import { ACK_TIMEOUT_MS } from '../socket';
import type { Room } from '../types';
import { useRoomTracking } from './useRoomTracking';
import { useSocketEvent } from './useSocketEvent';

export interface Conversations {
  loaded: boolean;
  error: string | null;
  rooms: Conversation[];
  dms: Conversation[];
  /** Total unread over every conversation, for the document title. */
  unread: number;
  /** The open room as the sidebar knows it (undefined when the user is not a member). */
  find: (id: string) => Conversation | undefined;
  /** The user was removed from (or left) this room while the page was open. */
  wasRemoved: (id: string) => boolean;
  /** The room stays joined on the socket after it is closed (it is counted in the background). */
  isTracked: (id: string) => boolean;
  /** A room the user now belongs to (created, joined, a DM): shown at once, before `room_added`. */
  add: (room: Room) => void;
  /** Moves the read marker of `room` to `id` here, on the server, and so on the other devices. */
  markRead: (room: string, id: string) => void;
  dispatch: (action: ConversationsAction) => void;
}

export function useConversations(): Conversations {
  const socket = useSocket();
  const { username } = useAuth();
  const [state, dispatch] = useReducer(conversationsReducer, initialConversations);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef<ConversationsState>(state);
  useLayoutEffect(() => {
    latest.current = state;
  });

  const load = useCallback(() => {
    let active = true;
    api.listRooms().then(
      (rooms) => {
        if (!active) return;
        dispatch({ type: 'loaded', rooms });
        setError(null);
      },
      (failure: unknown) => {
        if (active) setError(errorText(failure));
      },
    );
    return () => {
      active = false;
    };
  }, []);

  useEffect(load, [load]);

  // After a reconnect the counts may have moved while nothing was heard: ask again.
  const dropped = useRef(false);
  useSocketEvent(socket, 'disconnect', () => {
    dropped.current = true;
  });
  useSocketEvent(socket, 'connect', () => {
    if (dropped.current) load();
    dropped.current = false;
  });

  const recount = useCallback((room: string) => {
    api.getRoom(room).then(
      (fresh) => dispatch({ type: 'refreshed', room: fresh }),
      () => {
        // The next load or reconnect corrects it.
      },
    );
  }, []);

  useSocketEvent(socket, 'room_added', (room) => dispatch({ type: 'added', room }));
  useSocketEvent(socket, 'room_removed', ({ room }) => dispatch({ type: 'removed', room }));
  useSocketEvent(socket, 'room_updated', (room) => dispatch({ type: 'updated', room }));
  useSocketEvent(socket, 'member', (event) => {
    if (username && event.username.toLowerCase() === username.toLowerCase()) {
      dispatch({ type: 'role', room: event.room, role: event.role });
    }
  });
  useSocketEvent(socket, 'read', ({ room, id }) => {
    const known = latest.current.list.find((entry) => entry.id === room);
    dispatch({ type: 'read', room, id });
    if (needsRecount(known, id)) recount(room);
  });
  useSocketEvent(socket, 'mention', ({ message }) => dispatch({ type: 'mention', message }));
  useSocketEvent(socket, 'message', (message) => {
    if (username) dispatch({ type: 'message', message, me: username });
  });

  const tracking = useRoomTracking(socket, state.list);

  const markRead = useCallback(
    (room: string, id: string) => {
      const known = latest.current.list.find((entry) => entry.id === room);
      if (!known || (known.lastRead !== null && id <= known.lastRead)) return;
      dispatch({ type: 'read', room, id });
      if (needsRecount(known, id)) recount(room);
      if (socket?.connected) {
        socket.timeout(ACK_TIMEOUT_MS).emit('read', { room, id }, () => {
          // Best effort: the marker is sent again with the next message read.
        });
      } else {
        api.markRead(room, id).catch(() => {
          // Offline: the same.
        });
      }
    },
    [socket, recount],
  );

  const add = useCallback((room: Room) => dispatch({ type: 'added', room }), []);

  const { rooms, dms } = useMemo(() => sidebarLists(state.list), [state.list]);
  return {
    loaded: state.loaded,
    error,
    rooms,
    dms,
    unread: totalUnread(state.list),
    find: useCallback((id: string) => state.list.find((room) => room.id === id), [state.list]),
    wasRemoved: useCallback((id: string) => state.removed.includes(id), [state.removed]),
    isTracked: tracking.isTracked,
    add,
    markRead,
    dispatch,
  };
}
