import { useCallback } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { useAuth } from '../../auth/AuthProvider';
import { useDocumentTitle } from '../../hooks/useDocumentTitle';
import { useSessions } from '../../hooks/useSessions';
import { ChangePasswordForm } from './ChangePasswordForm';
import { SessionList } from './SessionList';

export const SESSIONS_PATH = '/account/sessions';

export function SessionsPage() {
  const { username, logout } = useAuth();
  const navigate = useNavigate();
  const { sessions, error, refresh, endSession } = useSessions();
  useDocumentTitle('Sessions · Parley');

  const logOutHere = useCallback(() => {
    void logout().then(() => navigate('/login', { replace: true }));
  }, [logout, navigate]);

  return (
    <div className="account-app">
      <header className="topbar">
        <p className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Parley
        </p>
        <p className="whoami">
          Signed in as <strong>{username}</strong>
        </p>
        <Link className="button subtle" to="/">
          Back to chat
        </Link>
      </header>
      <main className="account-page">
        <section className="account-section" aria-labelledby="sessions-heading">
          <h1 id="sessions-heading">Sessions</h1>
          <p className="hint">Where your account is logged in. Log out any session you do not recognise.</p>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          {sessions === null ? (
            !error && <p className="hint">Loading…</p>
          ) : (
            <SessionList sessions={sessions} onLogOutHere={logOutHere} onEnd={endSession} />
          )}
        </section>
        <ChangePasswordForm onChanged={refresh} />
      </main>
    </div>
  );
}
