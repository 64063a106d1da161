import { useCallback } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { useAuth } from '../../auth/AuthProvider';
import { useConnectionStatus } from '../../hooks/useConnectionStatus';
import { useDocumentTitle } from '../../hooks/useDocumentTitle';
import { usePresence } from '../../hooks/usePresence';
import { useRoomMessages } from '../../hooks/useRoomMessages';
import { useRooms } from '../../hooks/useRooms';
import { useSidebar } from '../../hooks/useSidebar';
import { useTyping } from '../../hooks/useTyping';
import type { Room } from '../../types';
import { AccountMenu } from '../account/AccountMenu';
import { Composer } from './Composer';
import { ConnectionBanner } from './ConnectionBanner';
import { CreateRoomForm } from './CreateRoomForm';
import { MessageList } from './MessageList';
import { OnlineList } from './OnlineList';
import { RoomList, roomPath } from './RoomList';
import { TypingIndicator } from './TypingIndicator';

export const DEFAULT_ROOM = 'general';

export function ChatRoom() {
  const room = useParams().room ?? DEFAULT_ROOM;
  const navigate = useNavigate();
  const { username, logout } = useAuth();
  const { rooms, error: roomsError, createRoom } = useRooms(room);
  const chat = useRoomMessages(room);
  const online = usePresence(room, chat.joined);
  const { typists, notifyTyping } = useTyping(room);
  const connection = useConnectionStatus();
  const { open: sidebarOpen, toggle: toggleSidebar, close: closeSidebar, panelRef, toggleRef } = useSidebar(room);
  const roomName = rooms.find((entry) => entry.id === room)?.name ?? room;
  const roomError = chat.joinError ?? chat.syncError;
  useDocumentTitle(`#${roomName} · Parley`);

  const onLogout = useCallback(() => {
    void logout().then(() => navigate('/login', { replace: true }));
  }, [logout, navigate]);

  const onCreated = useCallback((created: Room) => void navigate(roomPath(created.id)), [navigate]);

  return (
    <div className={sidebarOpen ? 'chat-app sidebar-open' : 'chat-app'}>
      <header className="topbar">
        <button
          ref={toggleRef}
          type="button"
          className="button subtle menu-toggle"
          aria-expanded={sidebarOpen}
          aria-controls="chat-sidebar"
          onClick={toggleSidebar}
        >
          Menu
        </button>
        <p className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Parley
        </p>
        <p className="whoami">
          Signed in as <strong>{username}</strong>
        </p>
        <AccountMenu />
        <button type="button" className="button" onClick={onLogout}>
          Log out
        </button>
      </header>

      <aside id="chat-sidebar" className="sidebar" ref={panelRef} aria-label="Rooms and people">
        <button type="button" className="button subtle sidebar-close" onClick={closeSidebar}>
          Close menu
        </button>
        <RoomList rooms={rooms} current={room} error={roomsError} />
        <CreateRoomForm createRoom={createRoom} onCreated={onCreated} />
        <OnlineList users={online} me={username} />
      </aside>
      <div className="sidebar-backdrop" aria-hidden="true" onClick={closeSidebar} />

      <main className="room">
        <h1 className="room-title">
          <span className="room-hash" aria-hidden="true">
            #
          </span>
          {roomName}
        </h1>
        <ConnectionBanner status={connection} />
        {roomError && (
          <p className="room-error" role="alert">
            {roomError}
          </p>
        )}
        <MessageList
          roomName={roomName}
          messages={chat.messages}
          me={username}
          joined={chat.joined}
          unavailable={chat.joinError !== null && !chat.joined}
          hasOlder={chat.hasOlder}
          loadingOlder={chat.loadingOlder}
          olderError={chat.olderError}
          onLoadOlder={chat.loadOlder}
          onRetry={chat.retry}
        />
        <TypingIndicator typists={typists} />
        <Composer
          room={room}
          roomName={roomName}
          disabled={chat.joinError !== null && !chat.joined}
          onSend={chat.send}
          onTyping={notifyTyping}
        />
      </main>
    </div>
  );
}
