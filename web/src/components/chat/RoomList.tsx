import { Link } from 'react-router-dom';
import type { Room } from '../../types';

export const roomPath = (id: string) => `/rooms/${encodeURIComponent(id)}`;

export function RoomList({ rooms, current, error }: { rooms: Room[]; current: string; error: string | null }) {
  return (
    <nav className="sidebar-section" aria-labelledby="rooms-heading">
      <h2 id="rooms-heading" className="sidebar-heading">
        Rooms
      </h2>
      {error && <p className="inline-error">Could not load rooms: {error}</p>}
      <ul className="room-list">
        {rooms.map((room) => (
          <li key={room.id}>
            <Link
              to={roomPath(room.id)}
              className="room-link"
              aria-current={room.id === current ? 'page' : undefined}
            >
              <span className="room-hash" aria-hidden="true">
                #
              </span>
              {room.name}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
