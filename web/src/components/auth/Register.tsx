import { useCallback } from 'react';
import { Link } from 'react-router-dom';
import { useAuth } from '../../auth/AuthProvider';
import { PASSWORD_MAX, PASSWORD_MIN, validateRegistration, type Credentials } from '../../auth/validation';
import { AuthForm } from './AuthForm';

const HINTS = {
  username: '3–32 characters: letters, digits, _ . or -',
  // The server also refuses the most common passwords (docs/reference.md, register).
  password: `${PASSWORD_MIN}–${PASSWORD_MAX} characters, not a common password such as “password1”`,
};

export function Register() {
  const { register } = useAuth();
  // Registering signs the new user in as well (register, then login).
  const submit = useCallback(({ username, password }: Credentials) => register(username, password), [register]);

  return (
    <AuthForm
      heading="Create your account"
      submitLabel="Register"
      busyLabel="Registering…"
      passwordAutoComplete="new-password"
      hints={HINTS}
      validate={validateRegistration}
      submit={submit}
      footer={
        <>
          Already have an account? <Link to="/login">Log in</Link>
        </>
      }
    />
  );
}
