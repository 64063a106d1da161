// One room's messages over the reducer in lib/messages.ts: being in the room (useRoomJoin),
// sending (useOutbox) and paging back through older history.
import { useCallback, useEffect, useLayoutEffect, useReducer, useRef } from 'react';
import { api } from '../api';
import { errorText } from '../errors';
import { initialRoomState, oldestStoredId, roomMessagesReducer, type RoomMessagesState } from '../lib/messages';
import { useSocket } from '../realtime/SocketProvider';
import type { ReplyQuote } from '../types';
import { useMessageActions, type MessageActions } from './useMessageActions';
import { useOutbox } from './useOutbox';
import { useRoomJoin } from './useRoomJoin';

const HISTORY_PAGE_SIZE = 50;

export interface RoomMessages extends Omit<RoomMessagesState, 'room'>, MessageActions {
  /** `replyTo`: the message it answers. */
  send: (text: string, replyTo?: ReplyQuote | null) => void;
  retry: (clientId: string) => void;
  loadOlder: () => void;
}

export interface RoomMessagesOptions {
  /** Whether the socket stays in a room after it is closed (see useRoomJoin). */
  stays?: (room: string) => boolean;
}

export function useRoomMessages(room: string, { stays }: RoomMessagesOptions = {}): RoomMessages {
  const socket = useSocket();
  const [state, dispatch] = useReducer(roomMessagesReducer, room, initialRoomState);
  // State for the current room only: until the reset below is processed, nothing of the
  // previous room shows.
  const current = state.room === room ? state : initialRoomState(room);

  // Callbacks run outside render read the latest values through this ref.
  const latest = useRef(current);
  useLayoutEffect(() => {
    latest.current = current;
  });

  useEffect(() => dispatch({ type: 'reset', room }), [room]);

  const outbox = useOutbox({ room, socket, dispatch, latest });
  useRoomJoin({ room, socket, dispatch, latest, onJoined: outbox.joined, onLeft: outbox.left, stays });
  const actions = useMessageActions(room, dispatch);

  const loadOlder = useCallback(() => {
    const { hasOlder, loadingOlder, messages } = latest.current;
    const oldest = oldestStoredId(messages);
    if (!hasOlder || loadingOlder || oldest === null) return;
    // Marked at once, so scroll events arriving before the re-render do not ask again.
    latest.current = { ...latest.current, loadingOlder: true };
    dispatch({ type: 'olderRequested', room });
    api.messagesBefore(room, oldest, HISTORY_PAGE_SIZE).then(
      (page) => dispatch({ type: 'olderLoaded', room, messages: page.messages, hasOlder: page.next !== null }),
      (error: unknown) => dispatch({ type: 'olderFailed', room, error: errorText(error) }),
    );
  }, [room]);

  return {
    messages: current.messages,
    joined: current.joined,
    joinError: current.joinError,
    syncError: current.syncError,
    hasOlder: current.hasOlder,
    loadingOlder: current.loadingOlder,
    olderError: current.olderError,
    send: outbox.send,
    retry: outbox.retry,
    loadOlder,
    ...actions,
  };
}
