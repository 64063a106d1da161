// Read markers are sent as the user reads: when the newest message of the open room is on screen
// and the tab has the focus, at most once a second per room (the last one always goes out).
import { useEffect, useRef } from 'react';

/** At most one read marker a second. */
export const READ_MARKER_INTERVAL_MS = 1_000;

export interface ReadMarkerOptions {
  room: string;
  /** The newest stored message shown, or null. */
  newestId: string | null;
  /** The room's read marker as the sidebar knows it; undefined when the user is not a member. */
  lastRead: string | null | undefined;
  /** The newest message is on screen (the list is scrolled to the bottom). */
  atBottom: boolean;
  /** The tab is visible and focused. */
  attending: boolean;
  markRead: (room: string, id: string) => void;
}

export function useReadMarker({ room, newestId, lastRead, atBottom, attending, markRead }: ReadMarkerOptions): void {
  const lastSent = useRef(new Map<string, number>());
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const unreadShown = newestId !== null && lastRead !== undefined && (lastRead === null || newestId > lastRead);
  const due = unreadShown && atBottom && attending;

  useEffect(() => {
    if (!due || newestId === null) return;
    const wait = (lastSent.current.get(room) ?? -Infinity) + READ_MARKER_INTERVAL_MS - Date.now();
    const send = () => {
      lastSent.current.set(room, Date.now());
      markRead(room, newestId);
    };
    // Through a timer even when due now: a render may show new messages beside where the list
    // was before (it reports a new position from a layout effect, one render later, as when a
    // room opens on its unread divider), and then the next render cancels this one's marker.
    timer.current = setTimeout(send, Math.max(wait, 0));
    return () => clearTimeout(timer.current);
  }, [due, room, newestId, markRead]);
}
