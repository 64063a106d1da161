import { useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { useNotificationSetting } from '../../hooks/useNotifications';
import { SESSIONS_PATH } from './SessionsPage';

/**
 * The account disclosure in the chat header: a button **Account** showing a link **Sessions** and
 * the setting **Notify me of direct messages and mentions** (the browser asks for permission when it
 * is turned on: a user's gesture, never on load).
 */
export function AccountMenu() {
  const [open, setOpen] = useState(false);
  const notifications = useNotificationSetting();
  const panelId = useId();
  const rootRef = useRef<HTMLDivElement | null>(null);

  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') setOpen(false);
    };
    const onPointer = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onPointer);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [open]);

  return (
    <div className="account-menu" ref={rootRef}>
      <button
        type="button"
        className="button subtle"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((value) => !value)}
      >
        Account
      </button>
      <ul id={panelId} className="account-menu-panel" hidden={!open}>
        <li>
          <Link to={SESSIONS_PATH} onClick={() => setOpen(false)}>
            Sessions
          </Link>
        </li>
        {notifications.permission !== 'unsupported' && (
          <li>
            <label className="checkbox">
              <input
                type="checkbox"
                checked={notifications.enabled}
                disabled={notifications.permission === 'denied'}
                aria-describedby={notifications.permission === 'denied' ? `${panelId}-denied` : undefined}
                onChange={(event) => notifications.toggle(event.target.checked)}
              />
              Notify me of direct messages and mentions
            </label>
            {notifications.permission === 'denied' && (
              <p id={`${panelId}-denied`} className="hint">
                Notifications are blocked in this browser’s site settings.
              </p>
            )}
          </li>
        )}
      </ul>
    </div>
  );
}
