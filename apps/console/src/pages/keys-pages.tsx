import { useEffect, useState } from 'react';

import { api, ApiKey, apiPage, CreatedApiKey, mayChangeKey, Session } from '../api';
import { ErrorNotice, Field, fieldError, formatDate, formText } from '../components';
import { Link } from '../router';

export function KeysPage({ session }: { session: Session }) {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');

  useEffect(() => {
    let current = true;
    setKeys(null);
    setError(null);
    const query = applied ? `?search=${encodeURIComponent(applied)}` : '';
    apiPage<ApiKey>(`/v1/api-keys${query}`).then(
      (page) => current && setKeys(page.data),
      (caught: unknown) => current && setError(caught),
    );
    return () => {
      current = false;
    };
  }, [applied]);

  return (
    <main>
      <div className="heading">
        <h1>API Keys</h1>
        {session.role !== 'viewer' && (
          <Link to="/keys/new" className="button">
            + Add API Key
          </Link>
        )}
      </div>
      <form
        role="search"
        className="search"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied(search.trim());
        }}
      >
        <label htmlFor="key-search">Search keys</label>
        <input
          id="key-search"
          type="search"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
          placeholder="Name or prefix"
        />
        <button type="submit">Search</button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setSearch('');
            setApplied('');
          }}
          disabled={!search && !applied}
        >
          Clear
        </button>
      </form>
      <ErrorNotice error={error} />
      {keys === null && !error && <p aria-live="polite">Loading keys…</p>}
      {keys !== null && keys.length === 0 && (
        <p className="empty">{applied ? `No API keys match “${applied}”.` : 'No API keys generated'}</p>
      )}
      {keys !== null && keys.length > 0 && (
        <table>
          <caption className="visually-hidden">API keys of the organisation</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Environment</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id}>
                <td>
                  <Link to={`/keys/${key.id}`}>{key.name}</Link>
                </td>
                <td>
                  <code>{key.masked}</code>
                </td>
                <td>{key.environment}</td>
                <td>{key.status}</td>
                <td>{formatDate(key.created_at)}</td>
                <td>{formatDate(key.expires_at)}</td>
                <td>{formatDate(key.last_used_at, '—')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

type ExpiryChoice = '30' | '60' | '90' | 'custom' | 'never';

export function NewKeyPage({ session }: { session: Session }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [expiry, setExpiry] = useState<ExpiryChoice>('90');
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const liveApproved = session.org.live_access === 'approved';

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body: Record<string, unknown> = {
      name: form.get('name'),
      environment: form.get('environment') === 'live' ? 'live' : 'test',
    };
    const description = formText(form, 'description').trim();
    if (description) body.description = description;
    if (expiry === 'never') body.expires_at = null;
    else if (expiry === 'custom') {
      const date = formText(form, 'expires_on');
      body.expires_at = date ? new Date(`${date}T23:59:59`).toISOString() : '';
    } else body.expires_in_days = Number(expiry);
    setBusy(true);
    setError(null);
    try {
      setCreated(await api<CreatedApiKey>('POST', '/v1/api-keys', body));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  if (created) return <SecretShownOnce created={created} />;
  return (
    <main className="narrow">
      <h1>Add API Key</h1>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Field id="name" label="Name" error={fieldError(error, 'name')}>
          <input id="name" name="name" required maxLength={200} />
        </Field>
        <Field id="description" label="Description (optional)" error={fieldError(error, 'description')}>
          <textarea id="description" name="description" rows={2} />
        </Field>
        <fieldset>
          <legend>Environment</legend>
          <label className="inline">
            <input type="radio" name="environment" value="test" defaultChecked /> Test
          </label>
          <label className="inline">
            <input type="radio" name="environment" value="live" disabled={!liveApproved} aria-describedby="live-reason" /> Production
          </label>
          {!liveApproved && (
            <p className="hint" id="live-reason">
              Production keys are available once a platform operator approves your organisation’s production access.
            </p>
          )}
        </fieldset>
        <fieldset>
          <legend>Expiry</legend>
          {(
            [
              ['30', '30 days'],
              ['60', '60 days'],
              ['90', '90 days'],
              ['custom', 'Custom date'],
              ['never', 'Never Expire'],
            ] as const
          ).map(([value, label]) => (
            <label className="inline" key={value}>
              <input type="radio" name="expiry" value={value} checked={expiry === value} onChange={() => setExpiry(value)} /> {label}
            </label>
          ))}
          {expiry === 'custom' && (
            <Field id="expires_on" label="Expires on" error={fieldError(error, 'expires_at')}>
              <input id="expires_on" name="expires_on" type="date" required />
            </Field>
          )}
          {expiry !== 'custom' && fieldError(error, 'expires_in_days') && (
            <p className="field-error">{fieldError(error, 'expires_in_days')}</p>
          )}
        </fieldset>
        <ErrorNotice error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create key'}
        </button>{' '}
        <Link to="/keys">Cancel</Link>
      </form>
    </main>
  );
}

/** The secret exists only in this component's state: leaving the page forgets it for good. */
function SecretShownOnce(props: { created: CreatedApiKey; heading?: string; detail?: string; onDone?: () => void }) {
  const { created } = props;
  const [copied, setCopied] = useState<string | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('Copying is not allowed here; select the key and copy it by hand.');
    }
  }
  return (
    <main className="narrow">
      <h1>{props.heading ?? 'Your new API key'}</h1>
      <div className="warning" role="status">
        <strong>Copy the key now: it will not be displayed again.</strong> Latchkey keeps only a hash of it; if you lose it, roll the key to
        get a new one.
        {props.detail && <> {props.detail}</>}
      </div>
      <label htmlFor="secret">API key “{created.name}”</label>
      <div className="secret-row">
        <input id="secret" readOnly value={created.secret} onFocus={(event) => event.currentTarget.select()} />
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <p aria-live="polite">{copied}</p>
      <p>
        {props.onDone ? (
          <button type="button" className="secondary" onClick={props.onDone}>
            Done: back to the key
          </button>
        ) : (
          <Link to={`/keys/${created.id}`}>View key details</Link>
        )}{' '}
        · <Link to="/keys">Back to API keys</Link>
      </p>
    </main>
  );
}

/** A stable callback ref: React calls it once when the element appears. */
function focusOnMount(element: HTMLElement | null) {
  element?.focus();
}

const GRACE_CHOICES = [
  ['0', 'Stop the old secret now'],
  ['3600', '1 hour'],
  ['86400', '24 hours'],
  ['604800', '7 days'],
] as const;

export function KeyDetailPage({ id, session }: { id: string; session: Session }) {
  const [key, setKey] = useState<ApiKey | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirmRevoke, setConfirmRevoke] = useState(false);
  const [grace, setGrace] = useState('86400');
  const [rolled, setRolled] = useState<CreatedApiKey | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    api<ApiKey>('GET', `/v1/api-keys/${encodeURIComponent(id)}`).then(setKey, setError);
  }, [id]);

  async function act(action: 'disable' | 'enable' | 'revoke' | 'roll', done: string) {
    setBusy(action);
    setActionError(null);
    setNotice(null);
    try {
      const path = `/v1/api-keys/${encodeURIComponent(id)}/${action}`;
      if (action === 'roll') {
        const next = await api<CreatedApiKey>('POST', path, { expire_old_in_seconds: Number(grace) });
        setRolled(next);
        setKey(next);
      } else {
        setKey(await api<ApiKey>('POST', path));
        setNotice(done);
      }
      setConfirmRevoke(false);
    } catch (caught) {
      setActionError(caught);
    } finally {
      setBusy(null);
    }
  }

  if (rolled) {
    return (
      <SecretShownOnce
        created={rolled}
        heading="Your rolled API key"
        detail={
          grace === '0'
            ? 'The old secret stopped working at once.'
            : `The old secret keeps working for ${GRACE_CHOICES.find(([value]) => value === grace)?.[1] ?? 'the grace period'}.`
        }
        onDone={() => setRolled(null)}
      />
    );
  }
  const changeable = key !== null && mayChangeKey(session, key) && key.status !== 'revoked';
  return (
    <main>
      <p>
        <Link to="/keys">← API keys</Link>
      </p>
      <ErrorNotice error={error} />
      {!key && !error && <p aria-live="polite">Loading key…</p>}
      {key && (
        <>
          <h1>{key.name}</h1>
          <dl className="details">
            <dt>Sid</dt>
            <dd>
              <code>{key.id}</code>
            </dd>
            <dt>Name</dt>
            <dd>{key.name}</dd>
            <dt>Description</dt>
            <dd>{key.description ?? '—'}</dd>
            <dt>Prefix</dt>
            <dd>
              <code>{key.prefix}</code>
            </dd>
            <dt>Key</dt>
            <dd>
              <code>{key.masked}</code>
            </dd>
            <dt>Environment</dt>
            <dd>{key.environment}</dd>
            <dt>Status</dt>
            <dd>{key.status}</dd>
            <dt>Created</dt>
            <dd>{formatDate(key.created_at)}</dd>
            <dt>Expires</dt>
            <dd>{formatDate(key.expires_at)}</dd>
            <dt>Last used</dt>
            <dd>{formatDate(key.last_used_at, '—')}</dd>
          </dl>
          <p aria-live="polite">{notice}</p>
          <ErrorNotice error={actionError} />
          {changeable && (
            <section aria-labelledby="key-actions">
              <h2 id="key-actions">Actions</h2>
              <form
                className="inline-form"
                onSubmit={(event) => {
                  event.preventDefault();
                  void act('roll', 'Key rolled.');
                }}
              >
                <label htmlFor="grace">Old secret keeps working</label>
                <select id="grace" value={grace} onChange={(event) => setGrace(event.target.value)}>
                  {GRACE_CHOICES.map(([value, label]) => (
                    <option key={value} value={value}>
                      {label}
                    </option>
                  ))}
                </select>
                <button type="submit" disabled={busy !== null}>
                  {busy === 'roll' ? 'Rolling…' : 'Roll key'}
                </button>
              </form>
              <p>
                {key.status === 'disabled' ? (
                  <button type="button" disabled={busy !== null} onClick={() => void act('enable', 'Key enabled.')}>
                    {busy === 'enable' ? 'Enabling…' : 'Enable key'}
                  </button>
                ) : (
                  <button type="button" className="secondary" disabled={busy !== null} onClick={() => void act('disable', 'Key disabled.')}>
                    {busy === 'disable' ? 'Disabling…' : 'Disable key'}
                  </button>
                )}{' '}
                {!confirmRevoke && (
                  <button type="button" className="danger" disabled={busy !== null} onClick={() => setConfirmRevoke(true)}>
                    Revoke key…
                  </button>
                )}
              </p>
              {confirmRevoke && (
                <div className="confirm" role="group" aria-labelledby="revoke-question">
                  <p id="revoke-question">
                    <strong>Revoke “{key.name}” for good?</strong> Every request with it is refused at once, and it cannot be enabled again.
                  </p>
                  <button
                    type="button"
                    className="danger"
                    disabled={busy !== null}
                    ref={focusOnMount}
                    onClick={() => void act('revoke', 'Key revoked.')}
                  >
                    {busy === 'revoke' ? 'Revoking…' : 'Yes, revoke key'}
                  </button>{' '}
                  <button type="button" className="secondary" onClick={() => setConfirmRevoke(false)}>
                    Cancel
                  </button>
                </div>
              )}
            </section>
          )}
        </>
      )}
    </main>
  );
}
