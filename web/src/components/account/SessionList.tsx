import { useState } from 'react';
import { errorText } from '../../errors';
import { describeDevice } from '../../lib/device';
import { formatAgo, formatFull } from '../../lib/format';
import type { SessionInfo } from '../../types';

interface SessionListProps {
  sessions: SessionInfo[];
  /** Log this browser out (the current session). */
  onLogOutHere: () => void;
  onEnd: (id: string) => Promise<void>;
}

export function SessionList({ sessions, onLogOutHere, onEnd }: SessionListProps) {
  const [ending, setEnding] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const end = (session: SessionInfo) => {
    if (session.current) {
      onLogOutHere();
      return;
    }
    setEnding(session.id);
    setError(null);
    onEnd(session.id).then(
      () => setEnding(null),
      (failure: unknown) => {
        setEnding(null);
        setError(errorText(failure));
      },
    );
  };

  return (
    <>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <ul className="session-list" aria-label="Sessions">
        {sessions.map((session) => (
          <li key={session.id} className="session-item" data-current={session.current || undefined}>
            <div className="session-details">
              <p className="session-device">
                {describeDevice(session.userAgent)}
                {session.current && <span className="badge">This device</span>}
              </p>
              <p className="session-seen">
                Last seen{' '}
                <time dateTime={session.lastSeenAt} title={formatFull(session.lastSeenAt)}>
                  {formatAgo(session.lastSeenAt)}
                </time>
              </p>
            </div>
            <button
              type="button"
              className="button"
              disabled={ending === session.id}
              onClick={() => end(session)}
            >
              Log out
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
