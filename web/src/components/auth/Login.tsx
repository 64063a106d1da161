import { useCallback } from 'react';
import { Link } from 'react-router-dom';
import { useAuth } from '../../auth/AuthProvider';
import { validateLogin, type Credentials } from '../../auth/validation';
import { AuthForm } from './AuthForm';

export function Login() {
  const { login, state } = useAuth();
  const submit = useCallback(({ username, password }: Credentials) => login(username, password), [login]);
  const notice = state.status === 'anonymous' ? state.notice : null;

  return (
    <AuthForm
      heading="Welcome back"
      submitLabel="Log in"
      busyLabel="Logging in…"
      passwordAutoComplete="current-password"
      notice={notice}
      validate={validateLogin}
      submit={submit}
      footer={
        <>
          New to Parley? <Link to="/register">Register</Link>
        </>
      }
    />
  );
}
