import { useCallback, useEffect, useState } from 'react';
import { ApiError, api } from '../api';
import { errorText } from '../errors';
import type { SessionInfo } from '../types';

export interface Sessions {
  /** The caller's live sessions, the current one first; null until loaded. */
  sessions: SessionInfo[] | null;
  error: string | null;
  /** Fetch the list again (after a password change ended the others). */
  refresh: () => void;
  /** End another session; it leaves the list (also when it had already ended). */
  endSession: (id: string) => Promise<void>;
}

function currentFirst(list: SessionInfo[]): SessionInfo[] {
  return [...list].sort((a, b) => Number(b.current) - Number(a.current));
}

export function useSessions(): Sessions {
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let active = true;
    api.listSessions().then(
      (list) => {
        if (!active) return;
        setSessions(currentFirst(list));
        setError(null);
      },
      (failure: unknown) => {
        if (active) setError(errorText(failure));
      },
    );
    return () => {
      active = false;
    };
  }, [generation]);

  const refresh = useCallback(() => setGeneration((n) => n + 1), []);

  const endSession = useCallback(async (id: string) => {
    try {
      await api.endSession(id);
    } catch (failure) {
      // `not_found`: it ended meanwhile (expired, or ended elsewhere), which is what was asked.
      if (!(failure instanceof ApiError && failure.code === 'not_found')) throw failure;
    }
    setSessions((list) => list?.filter((session) => session.id !== id) ?? list);
  }, []);

  return { sessions, error, refresh, endSession };
}
