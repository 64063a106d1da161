import { renderHook } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { FakeSocket } from '../test/fakeSocket';
import type { ParleySocket } from '../socket';
import type { PresenceEvent } from '../types';
import { useSocketEvent } from './useSocketEvent';

type Props = { socket: ParleySocket | null; handler: (event: PresenceEvent) => void };

function render(initial: Props) {
  return renderHook(({ socket, handler }: Props) => useSocketEvent(socket, 'presence', handler), { initialProps: initial });
}

const presence = { room: 'general', users: ['bob'] };

describe('useSocketEvent', () => {
  it('listens while mounted and stops on unmount', () => {
    const fake = new FakeSocket();
    const handler = vi.fn();
    const { unmount } = render({ socket: fake.socket, handler });
    expect(fake.listenerCount('presence')).toBe(1);
    fake.serverEmit('presence', presence);
    expect(handler).toHaveBeenCalledExactlyOnceWith(presence);

    unmount();
    expect(fake.listenerCount('presence')).toBe(0);
    fake.serverEmit('presence', presence);
    expect(handler).toHaveBeenCalledOnce();
  });

  it('calls the latest handler without registering again', () => {
    const fake = new FakeSocket();
    const on = vi.spyOn(fake, 'on');
    const first = vi.fn();
    const second = vi.fn();
    const { rerender } = render({ socket: fake.socket, handler: first });
    rerender({ socket: fake.socket, handler: second });
    fake.serverEmit('presence', presence);
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledOnce();
    expect(on).toHaveBeenCalledOnce();
    expect(fake.listenerCount('presence')).toBe(1);
  });

  it('does nothing without a socket, and moves to the next socket', () => {
    const handler = vi.fn();
    const { rerender } = render({ socket: null, handler });
    const first = new FakeSocket();
    rerender({ socket: first.socket, handler });
    expect(first.listenerCount('presence')).toBe(1);

    const second = new FakeSocket();
    rerender({ socket: second.socket, handler });
    expect(first.listenerCount('presence')).toBe(0);
    expect(second.listenerCount('presence')).toBe(1);
    first.serverEmit('presence', presence);
    expect(handler).not.toHaveBeenCalled();
    second.serverEmit('presence', presence);
    expect(handler).toHaveBeenCalledOnce();

    rerender({ socket: null, handler });
    expect(second.listenerCount('presence')).toBe(0);
  });
});
