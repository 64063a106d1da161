import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { errorText } from '../../errors';
import { MAX_MESSAGE_LENGTH } from '../../hooks/useComposer';
import { codePointLength } from '../../lib/format';

interface EditMessageFormProps {
  text: string;
  onSave: (text: string) => Promise<unknown>;
  onCancel: () => void;
}

/** A message being edited in place: Enter saves, Shift+Enter is a new line, Escape cancels. */
export function EditMessageForm({ text, onSave, onCancel }: EditMessageFormProps) {
  const [draft, setDraft] = useState(text);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const field = input.current;
    if (!field) return;
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
  }, []);

  const trimmed = draft.trim();
  const length = codePointLength(trimmed);
  const invalid = length === 0 ? 'A message cannot be empty: delete it instead.' : length > MAX_MESSAGE_LENGTH ? `Too long: ${length} of at most ${MAX_MESSAGE_LENGTH} characters` : null;

  const save = () => {
    if (busy) return;
    if (invalid) return setError(invalid);
    if (trimmed === text.trim()) return onCancel();
    setBusy(true);
    setError(null);
    onSave(trimmed).then(onCancel, (failure: unknown) => {
      setBusy(false);
      setError(errorText(failure));
    });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onCancel();
    } else if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      save();
    }
  };

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    save();
  };

  return (
    <form className="edit-message" onSubmit={onSubmit}>
      <textarea
        ref={input}
        aria-label="Edit message"
        value={draft}
        rows={Math.min(8, draft.split('\n').length + 1)}
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={onKeyDown}
        aria-invalid={error ? true : undefined}
      />
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <div className="edit-actions">
        <span className="edit-help">Enter to save, Escape to cancel</span>
        <button type="button" className="button subtle small" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button primary small" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}
