// Browser notifications for direct messages and mentions while the tab is hidden. Permission is
// asked only from a user's gesture (the setting's toggle), never on load; the setting is kept in
// localStorage and is off until the user turns it on.

const SETTING_KEY = 'parley.notifications';

export type NotificationPermissionState = NotificationPermission | 'unsupported';

export function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

export function notificationPermission(): NotificationPermissionState {
  return notificationsSupported() ? Notification.permission : 'unsupported';
}

/** The user's choice, whatever the browser allows. */
export function notificationsWanted(): boolean {
  try {
    return localStorage.getItem(SETTING_KEY) === 'on';
  } catch {
    return false; // storage blocked
  }
}

function remember(on: boolean): void {
  try {
    localStorage.setItem(SETTING_KEY, on ? 'on' : 'off');
  } catch {
    // Storage blocked: the choice lasts for this page only.
  }
}

/**
 * Turns notifications on or off; call it from a click or a key press only. Turning them on asks
 * the browser for permission when it has not been asked yet. Resolves to the permission.
 */
export async function setNotifications(on: boolean): Promise<NotificationPermissionState> {
  remember(on);
  if (!on || !notificationsSupported()) return notificationPermission();
  if (Notification.permission === 'default') return Notification.requestPermission();
  return Notification.permission;
}

/** Notifications are wanted, allowed, and the page is not being looked at. */
export function shouldNotify(): boolean {
  return notificationsWanted() && notificationPermission() === 'granted' && document.visibilityState === 'hidden';
}

/** Shows one notification; `tag` replaces an earlier one with the same tag. Clicking focuses the tab. */
export function showNotification(title: string, body: string, tag: string, onClick?: () => void): void {
  try {
    const notification = new Notification(title, { body, tag });
    notification.onclick = () => {
      window.focus();
      onClick?.();
      notification.close();
    };
  } catch {
    // Some browsers (Android Chrome) allow notifications only from a service worker.
  }
}
