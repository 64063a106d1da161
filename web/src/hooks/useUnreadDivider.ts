import { useState } from 'react';
import type { Conversation } from '../lib/conversations';

interface Snapshot {
  room: string;
  lastRead: string | null;
  unread: number;
}

/**
 * Where the **New messages** divider goes in the open room: after the read marker the room had
 * when it was opened (reading it later does not move the divider). undefined: no divider (nothing
 * was unread, or the user is not a member).
 */
export function useUnreadDivider(room: string, conversation: Conversation | undefined): string | null | undefined {
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  if (conversation && conversation.id === room && snapshot?.room !== room) {
    // Adjusting state while rendering: the snapshot is taken before any marker is sent.
    setSnapshot({ room, lastRead: conversation.lastRead, unread: conversation.unread });
  }
  if (snapshot === null || snapshot.room !== room || snapshot.unread === 0) return undefined;
  return snapshot.lastRead;
}
