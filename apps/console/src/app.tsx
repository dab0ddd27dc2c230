import { useEffect, useState } from 'react';

import { api, ApiError, Session } from './api';
import { ErrorNotice } from './components';
import { LoginPage, SignupPage } from './pages/auth-pages';
import { KeyDetailPage, KeysPage, NewKeyPage } from './pages/keys-pages';
import { MembersPage } from './pages/members-pages';
import { NewWebhookPage, WebhookDetailPage, WebhooksPage } from './pages/webhooks-pages';
import { Link, useRouter } from './router';

const PUBLIC_PATHS = new Set(['/login', '/signup']);

export function App() {
  const { path, navigate } = useRouter();
  // undefined: not asked yet; null: signed out.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api<Session>('GET', '/v1/auth/session').then(setSession, (caught: unknown) => {
      if (!(caught instanceof ApiError && caught.status === 401)) setError(caught);
      setSession(null);
    });
  }, []);

  useEffect(() => {
    if (session === null && !PUBLIC_PATHS.has(path)) navigate('/login');
    if (session && (PUBLIC_PATHS.has(path) || path === '/')) navigate('/keys');
  }, [session, path]);

  function signedIn(next: Session) {
    setSession(next);
    navigate('/keys');
  }

  async function logOut() {
    try {
      await api('POST', '/v1/auth/logout');
      setSession(null);
      navigate('/login');
    } catch (caught) {
      setError(caught);
    }
  }

  if (session === undefined) return <p aria-live="polite">Loading…</p>;
  return (
    <>
      <a href="#content" className="skip-link">
        Skip to content
      </a>
      <header>
        <span className="brand">Latchkey</span>
        {session && (
          <nav aria-label="Main">
            <Link to="/keys">API Keys</Link>
            <Link to="/webhooks">Webhooks</Link>
            <Link to="/members">Members</Link>
            <span className="who">
              {session.user.email} · {session.org.name} ({session.role})
            </span>
            <button type="button" className="secondary" onClick={() => void logOut()}>
              Log out
            </button>
          </nav>
        )}
      </header>
      <div id="content">
        <ErrorNotice error={error} />
        {page(path, session, signedIn)}
      </div>
    </>
  );
}

function page(path: string, session: Session | null, signedIn: (session: Session) => void) {
  if (!session) return path === '/signup' ? <SignupPage onSignedIn={signedIn} /> : <LoginPage onSignedIn={signedIn} />;
  if (path === '/keys/new') return <NewKeyPage session={session} />;
  const detail = /^\/keys\/([^/]+)$/.exec(path);
  if (detail) return <KeyDetailPage key={detail[1]} id={detail[1]} session={session} />;
  if (path === '/webhooks') return <WebhooksPage session={session} />;
  if (path === '/webhooks/new') return <NewWebhookPage session={session} />;
  const webhook = /^\/webhooks\/([^/]+)$/.exec(path);
  if (webhook) return <WebhookDetailPage key={webhook[1]} id={webhook[1]} session={session} />;
  if (path === '/members') return <MembersPage session={session} />;
  if (path === '/keys' || path === '/') return <KeysPage session={session} />;
  return (
    <main>
      <h1>Page not found</h1>
      <p>
        <Link to="/keys">Go to API keys</Link>
      </p>
    </main>
  );
}
