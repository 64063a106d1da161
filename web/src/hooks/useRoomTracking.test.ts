import { describe, expect, it } from 'vitest';
import { toConversation } from '../lib/conversations';
import { ulid } from '../test/renderApp';
import { MAX_TRACKED_ROOMS, roomsToTrack } from './useRoomTracking';

describe('roomsToTrack', () => {
  it('keeps general and the most recently active rooms, at most 99, and never an untracked one', () => {
    const rooms = Array.from({ length: 150 }, (_, n) =>
      toConversation({ id: `room-${String(n).padStart(3, '0')}`, name: `r${n}`, kind: 'public', lastMessageId: ulid(n) }),
    );
    const general = toConversation({ id: 'general', name: 'general', kind: 'public', lastMessageId: null });
    const old = toConversation({ id: 'old-server', name: 'old' });
    const chosen = roomsToTrack([...rooms, general, old]);
    expect(chosen).toHaveLength(MAX_TRACKED_ROOMS);
    expect(chosen).toContain('general');
    expect(chosen).not.toContain('old-server');
    // The 98 newest besides general: rooms 52 to 149.
    expect(chosen).toContain('room-052');
    expect(chosen).not.toContain('room-051');
  });
});
