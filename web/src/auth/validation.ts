// Client-side checks mirroring the server's rules (docs/reference.md, POST /api/auth/register), so
// most mistakes are explained before a round trip. The server stays the authority.

export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export interface Credentials {
  username: string;
  password: string;
}

export type FieldErrors = Partial<Record<keyof Credentials, string>>;

export function validateRegistration({ username, password }: Credentials): FieldErrors {
  const errors: FieldErrors = {};
  if (!USERNAME_PATTERN.test(username)) {
    errors.username = 'Username must be 3–32 characters: letters, digits, _ . or -';
  }
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    errors.password = `Password must be ${PASSWORD_MIN}–${PASSWORD_MAX} characters`;
  }
  return errors;
}

/**
 * Login only checks that both fields are filled: any other mistake gets the server's single
 * "invalid username or password" answer, which does not reveal which part was wrong.
 */
export function validateLogin({ username, password }: Credentials): FieldErrors {
  const errors: FieldErrors = {};
  if (!username.trim()) errors.username = 'Enter your username';
  if (!password) errors.password = 'Enter your password';
  return errors;
}
