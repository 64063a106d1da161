import { useState, type FormEvent } from 'react';
import { usePasswordChange } from '../../hooks/usePasswordChange';

interface ChangePasswordFormProps {
  /** The password changed: every other session ended. */
  onChanged: () => void;
}

export function ChangePasswordForm({ onChanged }: ChangePasswordFormProps) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const { state, submit } = usePasswordChange(onChanged);
  const busy = state.status === 'busy';

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    void submit(current, next).then((changed) => {
      if (!changed) return;
      setCurrent('');
      setNext('');
    });
  };

  return (
    <section className="account-section" aria-labelledby="change-password-heading">
      <h2 id="change-password-heading">Change password</h2>
      <form className="auth-form" noValidate onSubmit={onSubmit} aria-busy={busy}>
        <div className="field">
          <label htmlFor="current-password">Current password</label>
          <input
            id="current-password"
            name="current"
            type="password"
            autoComplete="current-password"
            required
            value={current}
            onChange={(event) => setCurrent(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="new-password">New password</label>
          <input
            id="new-password"
            name="new"
            type="password"
            autoComplete="new-password"
            required
            aria-describedby="new-password-hint"
            value={next}
            onChange={(event) => setNext(event.target.value)}
          />
          <p id="new-password-hint" className="hint">
            8–128 characters. Every other session will be logged out.
          </p>
        </div>
        {state.status === 'failed' && (
          <p className="form-error" role="alert">
            {state.message}
          </p>
        )}
        {state.status === 'done' && (
          <p className="notice success" role="status">
            Password changed. Every other session was logged out.
          </p>
        )}
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Changing…' : 'Change password'}
        </button>
      </form>
    </section>
  );
}
