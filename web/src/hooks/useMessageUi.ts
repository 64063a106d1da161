// What the reader is doing with the messages of the open room: replying to one, editing one,
// confirming a deletion, picking a reaction. All of it ends when another room is opened.
import { useCallback, useMemo, useState } from 'react';
import type { MessageItemActions } from '../components/chat/MessageItem';
import type { ChatMessage } from '../lib/messages';
import type { ReplyQuote } from '../types';
import type { RoomMessages } from './useRoomMessages';

/** The server quotes this much of a parent (docs/reference.md): the pending reply shows the same. */
const QUOTE_LENGTH = 200;

interface UiState {
  room: string;
  replyingTo: ChatMessage | null;
  /** The key of the message being edited. */
  editing: string | null;
  deleting: ChatMessage | null;
  reacting: ChatMessage | null;
}

const idle = (room: string): UiState => ({ room, replyingTo: null, editing: null, deleting: null, reacting: null });

const isMine = (message: ChatMessage, me: string | null) => me !== null && message.username.toLowerCase() === me.toLowerCase();

export function quoteOf(message: ChatMessage): ReplyQuote | null {
  return message.id === null ? null : { id: message.id, username: message.username, text: Array.from(message.text).slice(0, QUOTE_LENGTH).join('') };
}

export function useMessageUi(room: string, chat: RoomMessages, me: string | null) {
  const [state, setState] = useState<UiState>(() => idle(room));
  const current = state.room === room ? state : idle(room);
  const update = useCallback(
    (fields: Partial<Omit<UiState, 'room'>>) => setState((previous) => ({ ...(previous.room === room ? previous : idle(room)), ...fields })),
    [room],
  );

  const { retry, edit, react, send } = chat;
  const actions = useMemo<Omit<MessageItemActions, 'jumpTo'>>(
    () => ({
      retry,
      reply: (message) => update({ replyingTo: message }),
      startEdit: (key) => update({ editing: key }),
      stopEdit: () => update({ editing: null }),
      saveEdit: edit,
      askDelete: (message) => update({ deleting: message }),
      openReactions: (message) => update({ reacting: message }),
      react,
    }),
    [retry, edit, react, update],
  );

  const replyingTo = current.replyingTo;
  const sendReply = useCallback(
    (text: string) => {
      send(text, replyingTo && quoteOf(replyingTo));
      if (replyingTo) update({ replyingTo: null });
    },
    [send, replyingTo, update],
  );

  /** Edits the reader's last message still there; false when there is none. */
  const editLast = () => {
    const last = chat.messages.findLast((message) => message.id !== null && !message.deleted && isMine(message, me));
    if (!last) return false;
    update({ editing: last.key });
    return true;
  };

  return {
    ...current,
    actions,
    send: sendReply,
    editLast,
    cancelReply: () => update({ replyingTo: null }),
    closeDelete: () => update({ deleting: null }),
    closeReactions: () => update({ reacting: null }),
  };
}
