interface DialogActionsProps {
  error: string | null;
  errorId?: string;
  busy: boolean;
  disabled: boolean;
  label: string;
  busyLabel: string;
  onCancel: () => void;
}

/** The end of a dialog's form: its error, **Cancel**, and the submit button. */
export function DialogActions({ error, errorId, busy, disabled, label, busyLabel, onCancel }: DialogActionsProps) {
  return (
    <>
      {error && (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="button subtle" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button primary" disabled={disabled || busy}>
          {busy ? busyLabel : label}
        </button>
      </div>
    </>
  );
}
