import type { InputHTMLAttributes, ReactNode } from 'react';
import type { Credentials, FieldErrors } from '../../auth/validation';
import { useAuthForm, type AuthForm as AuthFormState } from '../../hooks/useAuthForm';

export interface AuthFormProps {
  heading: string;
  submitLabel: string;
  busyLabel: string;
  passwordAutoComplete: 'current-password' | 'new-password';
  hints?: Partial<Record<keyof Credentials, string>>;
  notice?: string | null;
  footer: ReactNode;
  validate: (values: Credentials) => FieldErrors;
  submit: (values: Credentials) => Promise<void>;
}

function describedBy(...ids: (string | false | undefined)[]): string | undefined {
  const list = ids.filter(Boolean).join(' ');
  return list || undefined;
}

interface AuthFieldProps
  extends Pick<
    InputHTMLAttributes<HTMLInputElement>,
    'type' | 'autoComplete' | 'autoCapitalize' | 'autoCorrect' | 'spellCheck'
  > {
  form: AuthFormState;
  name: keyof Credentials;
  label: string;
  hint?: string;
}

/** One labelled input with its error (once shown) or else its hint, both tied to it by id. */
function AuthField({ form, name, label, hint, ...inputProps }: AuthFieldProps) {
  const id = `auth-${name}`;
  const error = form.errors[name];
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        {...inputProps}
        ref={name === 'username' ? form.usernameRef : form.passwordRef}
        id={id}
        name={name}
        required
        value={form.values[name]}
        onChange={form.onChange}
        onBlur={form.onBlur}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(error ? `${id}-error` : hint && `${id}-hint`)}
      />
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : (
        hint && (
          <p id={`${id}-hint`} className="hint">
            {hint}
          </p>
        )
      )}
    </div>
  );
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
          <AuthField
            form={form}
            name="username"
            label="Username"
            type="text"
            autoComplete="username"
            hint={hints.username}
            autoCapitalize="none"
            autoCorrect="off"
            spellCheck={false}
          />
          <AuthField
            form={form}
            name="password"
            label="Password"
            type="password"
            autoComplete={passwordAutoComplete}
            hint={hints.password}
          />
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
