import { useCallback, useRef, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { useAuth } from '../auth/AuthProvider';
import type { Conversation } from '../lib/conversations';
import {
  notificationPermission,
  notificationsWanted,
  setNotifications,
  shouldNotify,
  showNotification,
  type NotificationPermissionState,
} from '../lib/notifications';
import { useSocket } from '../realtime/SocketProvider';
import type { Message } from '../types';
import { useSocketEvent } from './useSocketEvent';

const roomPath = (id: string) => `/rooms/${encodeURIComponent(id)}`;
const PREVIEW_LENGTH = 140;
/** Message ids already notified, so a mention in a DM shows once. */
const NOTIFIED_MEMORY = 200;

/** Notifies of others' messages in DMs and of mentions, while the tab is hidden. */
export function useMessageNotifications(find: (room: string) => Conversation | undefined): void {
  const socket = useSocket();
  const { username } = useAuth();
  const navigate = useNavigate();
  const notified = useRef<string[]>([]);

  const notify = (message: Message, title: string) => {
    if (!shouldNotify() || notified.current.includes(message.id)) return;
    if (username && message.username.toLowerCase() === username.toLowerCase()) return;
    notified.current = [...notified.current, message.id].slice(-NOTIFIED_MEMORY);
    const text = message.text.length > PREVIEW_LENGTH ? `${message.text.slice(0, PREVIEW_LENGTH)}…` : message.text;
    showNotification(title, text, message.room, () => void navigate(roomPath(message.room)));
  };

  useSocketEvent(socket, 'message', (message) => {
    if (find(message.room)?.kind === 'dm') notify(message, message.username);
  });
  useSocketEvent(socket, 'mention', ({ room, message }) => {
    const name = find(room)?.name ?? room;
    notify(message, `${message.username} in #${name}`);
  });
}

/** The setting's state and its toggle (call `toggle` from a user's gesture only). */
export function useNotificationSetting() {
  const [wanted, setWanted] = useState(notificationsWanted);
  const [permission, setPermission] = useState<NotificationPermissionState>(notificationPermission);
  const toggle = useCallback((on: boolean) => {
    setWanted(on);
    void setNotifications(on).then(setPermission);
  }, []);
  return { enabled: wanted && permission === 'granted', wanted, permission, toggle };
}
