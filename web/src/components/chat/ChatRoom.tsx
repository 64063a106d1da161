import { useCallback, useId, useMemo, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { api } from '../../api';
import { useAuth } from '../../auth/AuthProvider';
import { useConnectionStatus } from '../../hooks/useConnectionStatus';
import { useConversations } from '../../hooks/useConversations';
import { unreadTitle, useDocumentTitle } from '../../hooks/useDocumentTitle';
import { useMembers } from '../../hooks/useMembers';
import { useMessageUi } from '../../hooks/useMessageUi';
import { useMessageNotifications } from '../../hooks/useNotifications';
import { usePageAttention } from '../../hooks/usePageAttention';
import { useRoomPresence } from '../../hooks/usePresence';
import { useReadMarker } from '../../hooks/useReadMarker';
import { useRoomInfo } from '../../hooks/useRoomInfo';
import { useRoomMessages } from '../../hooks/useRoomMessages';
import { useSidebar } from '../../hooks/useSidebar';
import { useTyping } from '../../hooks/useTyping';
import { useUnreadDivider } from '../../hooks/useUnreadDivider';
import { newestStoredId } from '../../lib/messages';
import type { Room } from '../../types';
import { AccountMenu } from '../account/AccountMenu';
import { BrowseRoomsDialog } from '../conversations/BrowseRoomsDialog';
import { EditRoomDialog } from '../conversations/EditRoomDialog';
import { MembersPanel } from '../conversations/MembersPanel';
import { NewMessageDialog } from '../conversations/NewMessageDialog';
import { NewRoomDialog } from '../conversations/NewRoomDialog';
import { RoomHeader } from '../conversations/RoomHeader';
import { Composer } from './Composer';
import { ConnectionBanner } from './ConnectionBanner';
import { DeleteMessageDialog } from './DeleteMessageDialog';
import { MessageList } from './MessageList';
import { OnlineList } from './OnlineList';
import { ReactionDialog } from './ReactionDialog';
import { RoomList, roomPath } from './RoomList';
import { TypingIndicator } from './TypingIndicator';

export const DEFAULT_ROOM = 'general';

type OpenDialog = 'browse' | 'new-room' | 'new-message' | 'edit' | null;

export function ChatRoom() {
  const room = useParams().room ?? DEFAULT_ROOM;
  const navigate = useNavigate();
  const { username, logout } = useAuth();
  const conversations = useConversations();
  const conversation = conversations.find(room);
  const removed = conversations.wasRemoved(room);
  const info = useRoomInfo(room, conversations.loaded && !conversation && !removed);
  const chat = useRoomMessages(room, { stays: conversations.isTracked });
  const ui = useMessageUi(room, chat, username);
  // The members are loaded for `@` autocomplete once a mention is being typed.
  const [mentionsIn, setMentionsIn] = useState<string | null>(null);
  const needMembers = useCallback(() => setMentionsIn(room), [room]);
  const roomMembers = useMembers(room, mentionsIn === room);
  const memberNames = useMemo(() => (roomMembers.members ?? []).map((member) => member.username), [roomMembers.members]);
  const presence = useRoomPresence(room, chat.joined);
  const { typists, notifyTyping } = useTyping(room);
  const connection = useConnectionStatus();
  const { open: sidebarOpen, toggle: toggleSidebar, close: closeSidebar, panelRef, toggleRef } = useSidebar(room);
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const [members, setMembers] = useState<{ room: string; open: boolean }>({ room, open: false });
  const membersOpen = members.room === room && members.open;
  const [atBottom, setAtBottom] = useState(true);
  const attending = usePageAttention();
  const membersId = useId();

  const shown = conversation ?? info;
  const roomName = shown?.name ?? room;
  const kind = shown?.kind ?? 'public';
  const role = conversation?.role ?? null;
  const moderator = role === 'admin' || role === 'owner';
  const { deleting } = ui;
  const deletingId = deleting?.id ?? null;
  const reactingTo = ui.reacting?.id ?? null;
  const roomError = chat.joinError ?? chat.syncError;
  const closedToMe = removed || (chat.joinError !== null && !chat.joined);

  useDocumentTitle(unreadTitle(conversations.unread));
  useMessageNotifications(conversations.find);
  useReadMarker({
    room,
    newestId: newestStoredId(chat.messages),
    lastRead: conversation ? conversation.lastRead : undefined,
    atBottom,
    attending,
    markRead: conversations.markRead,
  });
  const unreadAfter = useUnreadDivider(room, conversation);

  const onLogout = useCallback(() => {
    void logout().then(() => navigate('/login', { replace: true }));
  }, [logout, navigate]);

  const { add } = conversations;
  const goTo = useCallback(
    (target: Room | string, joined = true) => {
      if (typeof target !== 'string' && joined) add(target);
      setDialog(null);
      void navigate(roomPath(typeof target === 'string' ? target : target.id));
    },
    [add, navigate],
  );
  const closeDialog = useCallback(() => setDialog(null), []);

  const joinRoom = useCallback(() => {
    // The join's room_added puts it in the sidebar too; this shows it at once.
    api.joinRoom(room).then(add, () => {
      // Sending a message joins too; the join's error shows there.
    });
  }, [room, add]);

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
        <div className="sidebar-actions">
          <button type="button" className="button small" onClick={() => setDialog('browse')}>
            Browse rooms
          </button>
          <button type="button" className="button small" onClick={() => setDialog('new-room')}>
            New room
          </button>
          <button type="button" className="button small" onClick={() => setDialog('new-message')}>
            New message
          </button>
        </div>
        <RoomList heading="Rooms" headingId="rooms-heading" rooms={conversations.rooms} current={room} error={conversations.error} />
        <RoomList
          heading="Direct messages"
          headingId="dms-heading"
          rooms={conversations.dms}
          current={room}
          empty={conversations.loaded ? 'No conversations yet.' : undefined}
        />
        <OnlineList users={presence.users} me={username} />
      </aside>
      <div className="sidebar-backdrop" aria-hidden="true" onClick={closeSidebar} />

      <main className={membersOpen ? 'room with-members' : 'room'}>
        <RoomHeader
          name={roomName}
          kind={kind}
          topic={shown?.topic ?? ''}
          role={role}
          member={conversation !== undefined}
          membersId={membersId}
          membersOpen={membersOpen}
          onToggleMembers={() => setMembers({ room, open: !membersOpen })}
          onEdit={() => setDialog('edit')}
          onJoin={info?.kind === 'public' && !removed ? joinRoom : undefined}
        />
        <ConnectionBanner status={connection} />
        {removed && (
          <p className="room-notice" role="status">
            You were removed from this room. You can no longer read or send messages here.
          </p>
        )}
        {roomError && !removed && (
          <p className="room-error" role="alert">
            {roomError}
          </p>
        )}
        <div className="room-body">
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
            actions={ui.actions}
            editing={ui.editing}
            moderator={moderator}
            unreadAfter={unreadAfter}
            onAtBottom={setAtBottom}
          />
          {membersOpen && (
            <MembersPanel
              id={membersId}
              room={room}
              kind={kind}
              myRole={role}
              me={username}
              presence={presence}
              onClose={() => setMembers({ room, open: false })}
              onLeft={() => goTo(DEFAULT_ROOM, false)}
            />
          )}
        </div>
        <TypingIndicator typists={typists} />
        <Composer
          room={room}
          roomName={roomName}
          disabled={closedToMe}
          onSend={ui.send}
          onTyping={notifyTyping}
          replyingTo={ui.replyingTo}
          onCancelReply={ui.cancelReply}
          members={memberNames}
          onNeedMembers={needMembers}
          me={username}
          onEditLast={ui.editLast}
        />
      </main>

      {deleting && deletingId && (
        <DeleteMessageDialog
          author={deleting.username}
          own={deleting.username.toLowerCase() === username?.toLowerCase()}
          onDelete={() => chat.remove(deletingId)}
          onClose={ui.closeDelete}
        />
      )}
      {reactingTo && <ReactionDialog onReact={(emoji) => chat.react(reactingTo, emoji, true)} onClose={ui.closeReactions} />}
      {dialog === 'browse' && (
        <BrowseRoomsDialog onClose={closeDialog} onOpen={(id) => goTo(id, false)} onJoined={(joined) => goTo(joined)} />
      )}
      {dialog === 'new-room' && <NewRoomDialog onClose={closeDialog} onCreated={(created) => goTo(created)} />}
      {dialog === 'new-message' && <NewMessageDialog onClose={closeDialog} onStarted={(started) => goTo(started)} />}
      {dialog === 'edit' && shown && (
        <EditRoomDialog
          room={{ id: room, name: shown.name, topic: shown.topic ?? '' }}
          onClose={closeDialog}
          onSaved={(saved) => {
            conversations.dispatch({ type: 'updated', room: saved });
            closeDialog();
          }}
        />
      )}
    </div>
  );
}
