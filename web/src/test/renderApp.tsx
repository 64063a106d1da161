import { render } from '@testing-library/react';
import { MemoryRouter, useLocation } from 'react-router-dom';
import { AppRoutes } from '../App';
import { AuthProvider } from '../auth/AuthProvider';
import { SocketProvider } from '../realtime/SocketProvider';
import type { ParleySocket } from '../socket';
import type { Message } from '../types';

function LocationProbe() {
  const location = useLocation();
  return <div data-testid="location">{location.pathname}</div>;
}

/** The whole app at `path`, with a fake socket in place of the network's. */
export function renderApp(path: string, socket?: ParleySocket) {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <AuthProvider>
        <SocketProvider socket={socket}>
          <AppRoutes />
          <LocationProbe />
        </SocketProvider>
      </AuthProvider>
    </MemoryRouter>,
  );
}

let sequence = 0;

/** A ULID-like id that sorts by `n`. */
export function ulid(n: number): string {
  return `01J${String(n).padStart(23, '0')}`;
}

export function message(n: number, fields: Partial<Message> = {}): Message {
  sequence += 1;
  return {
    id: ulid(n),
    room: 'general',
    username: 'bob',
    text: `message ${n}`,
    createdAt: new Date(Date.UTC(2024, 0, 1, 12, 0, n)).toISOString(),
    clientId: `client-${sequence}`,
    ...fields,
  };
}
