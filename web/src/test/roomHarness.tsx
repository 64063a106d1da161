// Renders a room hook over the real reducer and auth provider, for the hooks' own tests.
import { renderHook, waitFor } from '@testing-library/react';
import { useLayoutEffect, useReducer, useRef, type Dispatch, type ReactNode, type RefObject } from 'react';
import { expect } from 'vitest';
import { AuthProvider, useAuth } from '../auth/AuthProvider';
import { initialRoomState, roomMessagesReducer, type RoomMessagesAction, type RoomMessagesState } from '../lib/messages';

export interface RoomHookArgs {
  room: string;
  dispatch: Dispatch<RoomMessagesAction>;
  latest: RefObject<RoomMessagesState>;
}

function wrapper({ children }: { children: ReactNode }) {
  return <AuthProvider>{children}</AuthProvider>;
}

/** `hook` for `room` with the room's reducer; resolves once the user is signed in. */
export async function renderRoomHook<P extends { room: string }, R>(hook: (args: RoomHookArgs & P) => R, initialProps: P) {
  const rendered = renderHook(
    (props: P) => {
      const auth = useAuth();
      const [state, dispatch] = useReducer(roomMessagesReducer, props.room, initialRoomState);
      const latest = useRef(state);
      useLayoutEffect(() => {
        latest.current = state;
      });
      return { auth, state, value: hook({ ...props, dispatch, latest }) };
    },
    { initialProps, wrapper },
  );
  await waitFor(() => expect(rendered.result.current.auth.username).toBe('alice'));
  return rendered;
}
