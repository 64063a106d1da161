import type { ReactNode } from 'react';
import type { Credentials, FieldErrors } from '../../auth/validation';
import { useAuthForm } from '../../hooks/useAuthForm';

export interface AuthFormProps {
  heading: string;
  submitLabel: string;
  busyLabel: string;
  passwordAutoComplete: 'current-password' | 'new-password';
  hints?: Partial<Record<keyof Credentials, string>>;
  notice?: string | null;
  footer: ReactNode;
  validate(values: Credentials): FieldErrors;
  submit(values: Credentials): Promise<void>;
}

function describedBy(...ids: (string | false | undefined)[]): string | undefined {
  const list = ids.filter(Boolean).join(' ');
  return list || undefined;
}

export function AuthForm({
  heading,
  submitLabel,
  busyLabel,
  passwordAutoComplete,
  hints = {},
  notice,
  footer,
  validate,
  submit,
}: AuthFormProps) {
  const form = useAuthForm({ validate, submit });
  const { errors } = form;

  return (
    <main className="auth-page">
      <div className="auth-card">
        <p className="brand auth-brand" aria-hidden="true">
          <span className="brand-mark" />
          Parley
        </p>
        <h1>{heading}</h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <form className="auth-form" noValidate onSubmit={form.onSubmit} aria-busy={form.busy}>
          <div className="field">
            <label htmlFor="auth-username">Username</label>
            <input
              ref={form.usernameRef}
              id="auth-username"
              name="username"
              type="text"
              autoComplete="username"
              autoCapitalize="none"
              autoCorrect="off"
              spellCheck={false}
              required
              value={form.values.username}
              onChange={form.onChange}
              onBlur={form.onBlur}
              aria-invalid={errors.username ? true : undefined}
              aria-describedby={describedBy(
                errors.username ? 'auth-username-error' : hints.username && 'auth-username-hint',
              )}
            />
            {errors.username ? (
              <p id="auth-username-error" className="field-error">
                {errors.username}
              </p>
            ) : (
              hints.username && (
                <p id="auth-username-hint" className="hint">
                  {hints.username}
                </p>
              )
            )}
          </div>
          <div className="field">
            <label htmlFor="auth-password">Password</label>
            <input
              ref={form.passwordRef}
              id="auth-password"
              name="password"
              type="password"
              autoComplete={passwordAutoComplete}
              required
              value={form.values.password}
              onChange={form.onChange}
              onBlur={form.onBlur}
              aria-invalid={errors.password ? true : undefined}
              aria-describedby={describedBy(
                errors.password ? 'auth-password-error' : hints.password && 'auth-password-hint',
              )}
            />
            {errors.password ? (
              <p id="auth-password-error" className="field-error">
                {errors.password}
              </p>
            ) : (
              hints.password && (
                <p id="auth-password-hint" className="hint">
                  {hints.password}
                </p>
              )
            )}
          </div>
          {form.serverError && (
            <p className="form-error" role="alert">
              {form.serverError}
            </p>
          )}
          <button type="submit" className="button primary wide" disabled={form.busy}>
            {form.busy ? busyLabel : submitLabel}
          </button>
        </form>
        <p className="auth-switch">{footer}</p>
      </div>
    </main>
  );
}
