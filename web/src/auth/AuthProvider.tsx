import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import { api, setUnauthorizedHandler } from '../api';

export const SESSION_EXPIRED_NOTICE = 'Your session expired';

// Remembers that this browser had a session, so a 401 on the first request after a reload says
// "expired" rather than greeting a returning user as a stranger. Holds no secret.
const HAD_SESSION_KEY = 'parley.hadSession';

export type AuthState =
  | { status: 'loading' }
  | { status: 'anonymous'; notice: string | null }
  | { status: 'authenticated'; username: string };

export interface AuthContextValue {
  state: AuthState;
  /** The signed-in user's name, or null. */
  username: string | null;
  login: (username: string, password: string) => Promise<void>;
  register: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
  /**
   * The session is gone (any `unauthorized` answer, or `session_expired`): back to /login with a
   * notice; the SocketProvider then closes the socket.
   */
  expire: () => void;
}

const AuthContext = createContext<AuthContextValue | null>(null);

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth must be used inside <AuthProvider>');
  return value;
}

function rememberSession(had: boolean): void {
  try {
    if (had) localStorage.setItem(HAD_SESSION_KEY, '1');
    else localStorage.removeItem(HAD_SESSION_KEY);
  } catch {
    // Storage can be disabled; the notice is a nicety.
  }
}

function hadSession(): boolean {
  try {
    return localStorage.getItem(HAD_SESSION_KEY) === '1';
  } catch {
    return false;
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>({ status: 'loading' });

  const stateRef = useRef(state);
  useLayoutEffect(() => {
    stateRef.current = state;
  });

  // Set while a chosen logout is under way: the server tells the sockets the session ended,
  // often before its answer to the logout arrives, and that is no expiry.
  const leaving = useRef(false);

  const expire = useCallback(() => {
    const current = stateRef.current;
    if (current.status === 'anonymous' || leaving.current) return;
    const notice = current.status === 'authenticated' || hadSession() ? SESSION_EXPIRED_NOTICE : null;
    rememberSession(false);
    setState({ status: 'anonymous', notice });
  }, []);

  useEffect(() => setUnauthorizedHandler(expire), [expire]);

  useEffect(() => {
    let active = true;
    api.me().then(
      (user) => {
        if (!active) return;
        rememberSession(true);
        setState({ status: 'authenticated', username: user.username });
      },
      () => {
        // An `unauthorized` answer already went through `expire`; anything else (server down)
        // also means the session cannot be confirmed, and the login page says what went wrong
        // on the next try.
        if (active) setState((current) => (current.status === 'loading' ? { status: 'anonymous', notice: null } : current));
      },
    );
    return () => {
      active = false;
    };
  }, []);

  const login = useCallback(async (username: string, password: string) => {
    const user = await api.login(username, password);
    leaving.current = false;
    rememberSession(true);
    setState({ status: 'authenticated', username: user.username });
  }, []);

  const register = useCallback(
    async (username: string, password: string) => {
      await api.register(username, password);
      await login(username, password);
    },
    [login],
  );

  const logout = useCallback(async () => {
    leaving.current = true;
    try {
      await api.logout();
    } catch {
      // Signed out locally regardless; the server session expires on its own.
    }
    rememberSession(false);
    setState({ status: 'anonymous', notice: null });
  }, []);

  const value = useMemo<AuthContextValue>(
    () => ({
      state,
      username: state.status === 'authenticated' ? state.username : null,
      login,
      register,
      logout,
      expire,
    }),
    [state, login, register, logout, expire],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
