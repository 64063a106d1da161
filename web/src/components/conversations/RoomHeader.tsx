import type { Role, RoomKind } from '../../types';
import { RoomIcon } from './RoomIcon';

interface RoomHeaderProps {
  name: string;
  kind: RoomKind;
  topic: string;
  role: Role | null;
  /** The user is a member (else: reading a public room). */
  member: boolean;
  membersId: string;
  membersOpen: boolean;
  onToggleMembers: () => void;
  onEdit: () => void;
  /** Shown for a public room the user only reads. */
  onJoin?: () => void;
}

/** The open room's name and topic, its **Members** button, and what the user's role allows. */
export function RoomHeader(props: RoomHeaderProps) {
  const { name, kind, topic, role, member, membersId, membersOpen, onToggleMembers, onEdit, onJoin } = props;
  const manages = kind !== 'dm' && (role === 'owner' || role === 'admin');
  return (
    <header className="room-header">
      <div className="room-heading">
        <h1 className="room-title">
          <RoomIcon kind={kind} />
          {name}
          {kind === 'private' && <span className="visually-hidden"> (private room)</span>}
        </h1>
        {topic && <p className="room-topic">{topic}</p>}
      </div>
      <div className="room-actions">
        {!member && onJoin && (
          <button type="button" className="button small primary" onClick={onJoin}>
            Join room
          </button>
        )}
        {manages && (
          <button type="button" className="button small subtle" onClick={onEdit}>
            Edit room
          </button>
        )}
        <button
          type="button"
          className="button small"
          aria-expanded={membersOpen}
          aria-controls={membersOpen ? membersId : undefined}
          onClick={onToggleMembers}
        >
          Members
        </button>
      </div>
    </header>
  );
}
