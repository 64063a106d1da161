import { useEffect } from 'react';

/** The title of a chat page (CONTRACT.md, "Web pages, in addition": "the document title shows
 *  the total unread count, e.g. `(3) Parley`"): `(N) Parley`, or `Parley` with nothing unread. */
export function unreadTitle(unread: number): string {
  return unread > 0 ? `(${unread}) Parley` : 'Parley';
}

export function useDocumentTitle(title: string): void {
  useEffect(() => {
    const previous = document.title;
    document.title = title;
    return () => {
      document.title = previous;
    };
  }, [title]);
}
