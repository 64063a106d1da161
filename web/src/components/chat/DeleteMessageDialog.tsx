import type { FormEvent } from 'react';
import { useDialogSubmit } from '../../hooks/useDialogSubmit';
import { DialogActions } from '../conversations/DialogActions';
import { Dialog } from '../conversations/Dialog';

interface DeleteMessageDialogProps {
  author: string;
  own: boolean;
  onDelete: () => Promise<unknown>;
  onClose: () => void;
}

/** **Delete message?**: a deletion erases the text for everyone, so it is confirmed first. */
export function DeleteMessageDialog({ author, own, onDelete, onClose }: DeleteMessageDialogProps) {
  const { busy, error, submit } = useDialogSubmit();
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    submit(onDelete, onClose);
  };
  return (
    <Dialog title="Delete message?" onClose={onClose}>
      <form onSubmit={onSubmit}>
        <p>
          {own ? 'Your message' : `This message of ${author}`} will be erased for everyone in the room. This cannot be undone.
        </p>
        <DialogActions error={error} busy={busy} disabled={false} label="Delete" busyLabel="Deleting…" onCancel={onClose} />
      </form>
    </Dialog>
  );
}
