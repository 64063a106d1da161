import { act, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { SocketContext } from '../realtime/SocketProvider';
import { FakeSocket } from '../test/fakeSocket';
import { useConnectionStatus } from './useConnectionStatus';

/** A socket that connects between the render that reads it and the effects that listen. */
function connectsBeforeItIsListenedTo(): FakeSocket {
  const fake = new FakeSocket({ connected: false });
  let reads = 0;
  Object.defineProperty(fake, 'connected', {
    get: () => reads++ > 0,
    set: () => undefined, // the fake's drop() sets it; the getter decides
  });
  return fake;
}

function statusWith(fake: FakeSocket) {
  const wrapper = ({ children }: { children: ReactNode }) => (
    <SocketContext.Provider value={fake.socket}>{children}</SocketContext.Provider>
  );
  return renderHook(() => useConnectionStatus(), { wrapper });
}

describe('useConnectionStatus', () => {
  it('is reconnecting after a drop, once it was connected', () => {
    const fake = new FakeSocket({ connected: false });
    const { result } = statusWith(fake);
    expect(result.current).toBe('connecting');
    fake.connect();
    expect(result.current).toBe('connected');
    fake.drop();
    expect(result.current).toBe('reconnecting');
  });

  it('does not miss a connect that came before its listener was on', () => {
    const fake = connectsBeforeItIsListenedTo();
    const { result } = statusWith(fake);
    act(() => undefined);
    fake.drop();
    expect(result.current).toBe('reconnecting');
  });
});
