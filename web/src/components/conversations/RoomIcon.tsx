import type { RoomKind } from '../../types';

/** The mark before a room's name: `#` public, a padlock private, `@` a DM (hidden from screen readers). */
export function RoomIcon({ kind }: { kind: RoomKind }) {
  if (kind === 'private') {
    // Drawn, not an emoji: not every system has an emoji font.
    return (
      <svg className="room-hash room-lock" aria-hidden="true" viewBox="0 0 16 16" width="0.85em" height="0.85em">
        <path
          fill="currentColor"
          d="M8 1a3.5 3.5 0 0 0-3.5 3.5V7H4a1 1 0 0 0-1 1v6a1 1 0 0 0 1 1h8a1 1 0 0 0 1-1V8a1 1 0 0 0-1-1h-.5V4.5A3.5 3.5 0 0 0 8 1Zm-2 6V4.5a2 2 0 1 1 4 0V7H6Z"
        />
      </svg>
    );
  }
  return (
    <span className="room-hash" aria-hidden="true">
      {kind === 'dm' ? '@' : '#'}
    </span>
  );
}
