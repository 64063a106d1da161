import type { ReactNode } from 'react';
import { Navigate, Outlet, useLocation } from 'react-router-dom';
import { useAuth } from '../auth/AuthProvider';

interface RedirectState {
  from?: string;
}

function Loading() {
  return (
    <main className="loading-page">
      <p role="status">Loading…</p>
    </main>
  );
}

/** Pages for signed-in users: others go to /login, which sends them back here afterwards. */
export function ProtectedRoute({ children }: { children?: ReactNode }) {
  const { state } = useAuth();
  const location = useLocation();
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'anonymous') {
    const from = `${location.pathname}${location.search}`;
    return <Navigate to="/login" replace state={{ from } satisfies RedirectState} />;
  }
  return children ?? <Outlet />;
}

/** Pages for signed-out users (login, register): a signed-in user goes to the chat. */
export function GuestRoute({ children }: { children?: ReactNode }) {
  const { state } = useAuth();
  const location = useLocation();
  if (state.status === 'loading') return <Loading />;
  if (state.status === 'authenticated') {
    const from = (location.state as RedirectState | null)?.from;
    const target = from && from.startsWith('/') && !from.startsWith('//') ? from : '/';
    return <Navigate to={target} replace />;
  }
  return children ?? <Outlet />;
}
