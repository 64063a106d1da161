import { useState, type FormEvent } from 'react';
import { ApiError, api } from '../../api';
import { errorText } from '../../errors';
import { useBans } from '../../hooks/useBans';
import { useMembers } from '../../hooks/useMembers';
import type { RoomPresence } from '../../hooks/usePresence';
import type { Role, RoomKind } from '../../types';

interface MembersPanelProps {
  id: string;
  room: string;
  kind: RoomKind;
  /** The caller's role (null: not a member). */
  myRole: Role | null;
  me: string | null;
  presence: RoomPresence;
  onClose: () => void;
  /** The user left the room (not offered in a DM). */
  onLeft: () => void;
}

const ROLES: Role[] = ['member', 'admin', 'owner'];
const same = (a: string | null, b: string) => a !== null && a.toLowerCase() === b.toLowerCase();

function actionError(failure: unknown, username: string): string {
  if (failure instanceof ApiError && failure.code === 'not_found') return `There is no user named ${username}.`;
  return errorText(failure);
}

function leaveError(failure: unknown): string {
  if (failure instanceof ApiError && failure.code === 'conflict') {
    return 'You are the only owner: make someone else an owner before you leave.';
  }
  return errorText(failure);
}

/** The panel **Members**: who is in the room, their role and whether they are online; admins manage. */
export function MembersPanel({ id, room, kind, myRole, me, presence, onClose, onLeft }: MembersPanelProps) {
  const { members, error, add, remove, setRole } = useMembers(room, true);
  const [username, setUsername] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const manages = kind !== 'dm' && (myRole === 'owner' || myRole === 'admin');
  const bans = useBans(room, manages);
  const setsRoles = kind !== 'dm' && myRole === 'owner';
  const online = (name: string, fallback: boolean) =>
    presence.known ? presence.users.some((user) => same(user, name)) : fallback;

  const run = (action: () => Promise<void>, done: string, target: string) => {
    setBusy(true);
    setFailure(null);
    action().then(
      () => {
        setBusy(false);
        setStatus(done);
      },
      (problem: unknown) => {
        setBusy(false);
        setFailure(actionError(problem, target));
      },
    );
  };

  const leave = () => {
    setBusy(true);
    setFailure(null);
    api.leaveRoom(room).then(
      () => {
        setBusy(false);
        onLeft();
      },
      (problem: unknown) => {
        setBusy(false);
        setFailure(leaveError(problem));
      },
    );
  };

  const onAdd = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const name = username.trim().replace(/^@/, '');
    if (!name || busy) return;
    run(
      async () => {
        await add(name);
        setUsername('');
      },
      `${name} was added.`,
      name,
    );
  };

  return (
    <section id={id} className="members-panel" aria-labelledby={`${id}-heading`}>
      <div className="members-header">
        <h2 id={`${id}-heading`}>Members</h2>
        <button type="button" className="button subtle small" onClick={onClose}>
          Close
        </button>
      </div>
      {manages && (
        <form className="inline-form add-people" onSubmit={onAdd}>
          <label htmlFor={`${id}-add`} className="visually-hidden">
            Add people
          </label>
          <input
            id={`${id}-add`}
            type="text"
            placeholder="Add people by username"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            value={username}
            onChange={(event) => setUsername(event.target.value)}
          />
          <button type="submit" className="button" disabled={busy || !username.trim()}>
            Add
          </button>
        </form>
      )}
      {(failure ?? error) && (
        <p className="field-error" role="alert">
          {failure ?? error}
        </p>
      )}
      <p className="visually-hidden" role="status">
        {status}
      </p>
      {members === null ? (
        !error && <p className="hint">Loading…</p>
      ) : (
        <ul className="member-list" aria-label="Members of this room">
          {members.map((member) => {
            const isMe = same(me, member.username);
            const isOnline = online(member.username, member.online);
            const canRemove = manages && !isMe && !(myRole === 'admin' && member.role === 'owner');
            return (
              <li key={member.username} className="member">
                <span className={isOnline ? 'presence-dot online' : 'presence-dot'} aria-hidden="true" />
                <span className="member-name">
                  {member.username}
                  {isMe && ' (you)'}
                </span>
                <span className="member-role">{member.role}</span>
                <span className="member-online">{isOnline ? 'online' : 'offline'}</span>
                {(canRemove || (setsRoles && !isMe)) && (
                  <span className="member-actions">
                    {setsRoles && !isMe && (
                      <select
                        aria-label={`Role of ${member.username}`}
                        value={member.role}
                        disabled={busy}
                        onChange={(event) =>
                          run(
                            () => setRole(member.username, event.target.value as Role),
                            `${member.username} is now ${event.target.value}.`,
                            member.username,
                          )
                        }
                      >
                        {ROLES.map((role) => (
                          <option key={role} value={role}>
                            {role}
                          </option>
                        ))}
                      </select>
                    )}
                    {canRemove && (
                      <>
                        <button
                          type="button"
                          className="button small"
                          disabled={busy}
                          onClick={() => run(() => remove(member.username, false), `${member.username} was removed.`, member.username)}
                        >
                          Remove {member.username}
                        </button>
                        <button
                          type="button"
                          className="button small danger"
                          disabled={busy}
                          onClick={() =>
                            run(
                              async () => {
                                await remove(member.username, true);
                                bans.banned(member.username);
                              },
                              `${member.username} was banned.`,
                              member.username,
                            )
                          }
                        >
                          Ban {member.username}
                        </button>
                      </>
                    )}
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {manages && bans.error && <p className="field-error">Could not load who is banned: {bans.error}</p>}
      {manages && bans.bans !== null && bans.bans.length > 0 && (
        <>
          <h3 className="members-subheading" id={`${id}-banned`}>
            Banned
          </h3>
          <ul className="member-list" aria-labelledby={`${id}-banned`}>
            {bans.bans.map((ban) => (
              <li key={ban.username} className="member">
                <span className="member-name">{ban.username}</span>
                <span className="member-actions">
                  <button
                    type="button"
                    className="button small"
                    disabled={busy}
                    onClick={() => run(() => bans.unban(ban.username), `${ban.username} may join again.`, ban.username)}
                  >
                    Unban {ban.username}
                  </button>
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
      {kind !== 'dm' && myRole !== null && (
        <button type="button" className="button small subtle leave-room" disabled={busy} onClick={leave}>
          Leave room
        </button>
      )}
    </section>
  );
}
