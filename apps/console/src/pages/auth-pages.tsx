import { useState } from 'react';

import { api, Session } from '../api';
import { ErrorNotice, Field, fieldError } from '../components';
import { Link } from '../router';

export function LoginPage({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api<Session>('POST', '/v1/auth/login', { email: form.get('email'), password: form.get('password') }));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main className="narrow">
      <h1>Log in to Latchkey</h1>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Field id="email" label="Email" error={fieldError(error, 'email')}>
          <input id="email" name="email" type="email" autoComplete="email" required />
        </Field>
        <Field id="password" label="Password" error={fieldError(error, 'password')}>
          <input id="password" name="password" type="password" autoComplete="current-password" required />
        </Field>
        <ErrorNotice error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <p>
        No account yet? <Link to="/signup">Sign up</Link>
      </p>
    </main>
  );
}

export function SignupPage({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const body = { name: form.get('name'), email: form.get('email'), password: form.get('password'), org_name: form.get('org_name') };
      onSignedIn(await api<Session>('POST', '/v1/auth/signup', body));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main className="narrow">
      <h1>Create your Latchkey account</h1>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Field id="name" label="Your name" error={fieldError(error, 'name')}>
          <input id="name" name="name" autoComplete="name" required />
        </Field>
        <Field id="email" label="Email" error={fieldError(error, 'email')}>
          <input id="email" name="email" type="email" autoComplete="email" required />
        </Field>
        <Field id="password" label="Password" hint="At least 12 characters." error={fieldError(error, 'password')}>
          <input id="password" name="password" type="password" autoComplete="new-password" aria-describedby="password-hint" required />
        </Field>
        <Field id="org_name" label="Organisation name" error={fieldError(error, 'org_name')}>
          <input id="org_name" name="org_name" autoComplete="organization" required />
        </Field>
        <ErrorNotice error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating account…' : 'Sign up'}
        </button>
      </form>
      <p>
        Have an account? <Link to="/login">Log in</Link>
      </p>
    </main>
  );
}
