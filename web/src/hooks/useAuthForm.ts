import { useCallback, useRef, useState, type ChangeEvent, type FocusEvent, type FormEvent, type RefObject } from 'react';
import type { Credentials, FieldErrors } from '../auth/validation';

export interface AuthFormOptions {
  validate: (values: Credentials) => FieldErrors;
  submit: (values: Credentials) => Promise<void>;
}

export interface AuthForm {
  values: Credentials;
  /** Field errors, shown once a field was left or the form submitted. */
  errors: FieldErrors;
  serverError: string | null;
  busy: boolean;
  usernameRef: RefObject<HTMLInputElement | null>;
  passwordRef: RefObject<HTMLInputElement | null>;
  onChange: (event: ChangeEvent<HTMLInputElement>) => void;
  onBlur: (event: FocusEvent<HTMLInputElement>) => void;
  onSubmit: (event: FormEvent<HTMLFormElement>) => void;
}

type Field = keyof Credentials;

const isField = (name: string): name is Field => name === 'username' || name === 'password';

export function useAuthForm({ validate, submit }: AuthFormOptions): AuthForm {
  const [values, setValues] = useState<Credentials>({ username: '', password: '' });
  const [shown, setShown] = useState<Record<Field, boolean>>({ username: false, password: false });
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const usernameRef = useRef<HTMLInputElement | null>(null);
  const passwordRef = useRef<HTMLInputElement | null>(null);

  const allErrors = validate(values);
  const errors: FieldErrors = {};
  if (shown.username && allErrors.username) errors.username = allErrors.username;
  if (shown.password && allErrors.password) errors.password = allErrors.password;

  const onChange = useCallback((event: ChangeEvent<HTMLInputElement>) => {
    const { name, value } = event.target;
    if (isField(name)) setValues((current) => ({ ...current, [name]: value }));
  }, []);

  const onBlur = useCallback((event: FocusEvent<HTMLInputElement>) => {
    const { name, value } = event.target;
    // Leaving an empty field is not a mistake yet; leaving a filled-in wrong one is.
    if (isField(name) && value !== '') setShown((current) => ({ ...current, [name]: true }));
  }, []);

  const onSubmit = useCallback(
    (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      if (busy) return;
      setShown({ username: true, password: true });
      const found = validate(values);
      if (found.username || found.password) {
        (found.username ? usernameRef : passwordRef).current?.focus();
        return;
      }
      setServerError(null);
      setBusy(true);
      submit(values).then(
        // On success the page is replaced by the chat, so there is nothing to reset.
        () => undefined,
        (error: unknown) => {
          setServerError(error instanceof Error ? error.message : String(error));
          setBusy(false);
        },
      );
    },
    [busy, validate, submit, values],
  );

  return { values, errors, serverError, busy, usernameRef, passwordRef, onChange, onBlur, onSubmit };
}
