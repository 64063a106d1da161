import { Link } from 'react-router-dom';
import { UNREAD_CAP, type Conversation } from '../../lib/conversations';
import { RoomIcon } from '../conversations/RoomIcon';

export const roomPath = (id: string) => `/rooms/${encodeURIComponent(id)}`;

interface RoomListProps {
  heading: string;
  headingId: string;
  rooms: readonly Conversation[];
  current: string;
  error?: string | null;
  /** Shown when the list is empty. */
  empty?: string;
}

const countText = (count: number) => (count >= UNREAD_CAP ? `${UNREAD_CAP}+` : String(count));

/**
 * One list of the sidebar (**Rooms** or **Direct messages**): a link per room whose name starts
 * with the room's name, then its unread count and mentions, each in a badge.
 */
export function RoomList({ heading, headingId, rooms, current, error, empty }: RoomListProps) {
  return (
    <nav className="sidebar-section" aria-labelledby={headingId}>
      <h2 id={headingId} className="sidebar-heading">
        {heading}
      </h2>
      {error && <p className="inline-error">Could not load rooms: {error}</p>}
      {rooms.length === 0 && empty && <p className="hint sidebar-empty">{empty}</p>}
      <ul className="room-list">
        {rooms.map((room) => (
          <li key={room.id}>
            <Link
              to={roomPath(room.id)}
              className={room.unread > 0 ? 'room-link unread' : 'room-link'}
              aria-current={room.id === current ? 'page' : undefined}
            >
              <RoomIcon kind={room.kind} />
              <span className="room-name">{room.name}</span>
              {room.kind === 'private' && (
                <>
                  {' '}
                  <span className="visually-hidden">(private)</span>
                </>
              )}
              {room.mentions > 0 && (
                <>
                  <span className="badge mention" data-testid="mention-badge" aria-hidden="true">
                    @{countText(room.mentions)}
                  </span>
                  {' '}
                  <span className="visually-hidden">
                    {countText(room.mentions)} {room.mentions === 1 ? 'mention' : 'mentions'}
                  </span>
                </>
              )}
              {room.unread > 0 && (
                <>
                  <span className="badge" data-testid="unread-badge" aria-hidden="true">
                    {countText(room.unread)}
                  </span>
                  {' '}
                  <span className="visually-hidden">{countText(room.unread)} unread</span>
                </>
              )}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
