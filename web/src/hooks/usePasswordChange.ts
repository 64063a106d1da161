import { useCallback, useState } from 'react';
import { ApiError, api } from '../api';
import { PASSWORD_MAX, PASSWORD_MIN } from '../auth/validation';
import { errorText } from '../errors';

export type PasswordChangeState =
  | { status: 'idle' }
  | { status: 'busy' }
  | { status: 'done' }
  | { status: 'failed'; message: string };

export interface PasswordChange {
  state: PasswordChangeState;
  /** Resolves true when the password changed. */
  submit: (current: string, next: string) => Promise<boolean>;
}

const NEW_PASSWORD_RULE = `The new password must be ${PASSWORD_MIN}–${PASSWORD_MAX} characters.`;

/** What to tell the user, chosen by the error's code, never its text. */
function failureMessage(failure: unknown): string {
  if (failure instanceof ApiError) {
    if (failure.code === 'forbidden') return 'The current password is wrong.';
    if (failure.code === 'invalid') return NEW_PASSWORD_RULE;
  }
  return errorText(failure);
}

export function validNewPassword(next: string): boolean {
  const length = [...next].length;
  return length >= PASSWORD_MIN && length <= PASSWORD_MAX;
}

export function usePasswordChange(onChanged: () => void): PasswordChange {
  const [state, setState] = useState<PasswordChangeState>({ status: 'idle' });

  const submit = useCallback(
    async (current: string, next: string) => {
      if (!current) {
        setState({ status: 'failed', message: 'Enter your current password.' });
        return false;
      }
      if (!validNewPassword(next)) {
        setState({ status: 'failed', message: NEW_PASSWORD_RULE });
        return false;
      }
      setState({ status: 'busy' });
      try {
        await api.changePassword(current, next);
      } catch (failure) {
        setState({ status: 'failed', message: failureMessage(failure) });
        return false;
      }
      setState({ status: 'done' });
      onChanged();
      return true;
    },
    [onChanged],
  );

  return { state, submit };
}
