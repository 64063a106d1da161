import { useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../../api';
import { errorText } from '../../errors';
import type { Room } from '../../types';
import { Dialog } from './Dialog';

/** Typing settles for this long before the directory is asked. */
export const SEARCH_DELAY_MS = 250;

interface BrowseRoomsDialogProps {
  onClose: () => void;
  /** Open a room the user is a member of. */
  onOpen: (room: string) => void;
  /** The user joined `room`. */
  onJoined: (room: Room) => void;
}

interface Listing {
  query: string;
  rooms: Room[];
  next: string | null;
}

function joinError(failure: unknown): string {
  if (failure instanceof ApiError && failure.code === 'forbidden') return 'You are banned from this room.';
  if (failure instanceof ApiError && failure.code === 'not_found') return 'This room no longer exists.';
  return errorText(failure);
}

const membersText = (count: number | undefined) =>
  count === undefined ? '' : count === 1 ? '1 member' : `${count} members`;

/** The dialog **Browse rooms**: the directory of public rooms, searched and paged. */
export function BrowseRoomsDialog({ onClose, onOpen, onJoined }: BrowseRoomsDialogProps) {
  const [query, setQuery] = useState('');
  const [listing, setListing] = useState<Listing | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [joining, setJoining] = useState<string | null>(null);
  const generation = useRef(0);

  const fetchPage = (q: string, cursor: string | null) => {
    const mine = ++generation.current;
    setLoading(true);
    api.directory(q, cursor).then(
      (page) => {
        if (mine !== generation.current) return;
        setLoading(false);
        setError(null);
        setListing((previous) => ({
          query: q,
          rooms: cursor !== null && previous?.query === q ? [...previous.rooms, ...page.rooms] : page.rooms,
          next: page.next,
        }));
      },
      (failure: unknown) => {
        if (mine !== generation.current) return;
        setLoading(false);
        setError(errorText(failure));
      },
    );
  };
  const latestFetch = useRef(fetchPage);
  useEffect(() => {
    latestFetch.current = fetchPage;
  });

  useEffect(() => {
    const timer = setTimeout(() => latestFetch.current(query.trim(), null), query ? SEARCH_DELAY_MS : 0);
    return () => clearTimeout(timer);
  }, [query]);

  const join = (room: Room) => {
    setJoining(room.id);
    setError(null);
    api.joinRoom(room.id).then(
      (joined) => {
        setJoining(null);
        onJoined(joined);
      },
      (failure: unknown) => {
        setJoining(null);
        setError(joinError(failure));
      },
    );
  };

  const rooms = listing?.rooms ?? [];
  return (
    <Dialog title="Browse rooms" onClose={onClose} className="browse-dialog">
      <div className="dialog-form">
        <label htmlFor="browse-search">Search rooms</label>
        <input
          id="browse-search"
          data-autofocus
          type="search"
          placeholder="Name or topic"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <p className="visually-hidden" role="status">
        {loading ? 'Searching…' : listing ? `${rooms.length}${listing.next ? ' or more' : ''} rooms found` : ''}
      </p>
      {listing && rooms.length === 0 && !loading && <p className="empty">No public rooms match.</p>}
      <ul className="directory" aria-label="Public rooms">
        {rooms.map((room) => (
          <li key={room.id} className="directory-room">
            <div className="directory-text">
              <span className="directory-name" id={`dir-${room.id}`}>
                <span aria-hidden="true">#</span>
                {room.name}
              </span>
              {room.topic && <span className="directory-topic">{room.topic}</span>}
              <span className="directory-members">{membersText(room.members)}</span>
            </div>
            {room.role ? (
              <button type="button" className="button" aria-describedby={`dir-${room.id}`} onClick={() => onOpen(room.id)}>
                Open
              </button>
            ) : (
              <button
                type="button"
                className="button primary"
                aria-describedby={`dir-${room.id}`}
                disabled={joining !== null}
                onClick={() => join(room)}
              >
                {joining === room.id ? 'Joining…' : 'Join'}
              </button>
            )}
          </li>
        ))}
      </ul>
      {listing?.next && (
        <button
          type="button"
          className="button subtle load-more"
          disabled={loading}
          onClick={() => fetchPage(listing.query, listing.next)}
        >
          {loading ? 'Loading…' : 'Show more rooms'}
        </button>
      )}
    </Dialog>
  );
}
