import { useEffect, useRef, useState } from 'react';

import {
  api,
  apiPage,
  CreatedWebhookEndpoint,
  managesOrg,
  Session,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEventType,
  WebhookTest,
} from '../api';
import { ErrorNotice, Field, fieldError, formatDate, formText } from '../components';
import { Link } from '../router';

export function WebhooksPage({ session }: { session: Session }) {
  const [endpoints, setEndpoints] = useState<WebhookEndpoint[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    apiPage<WebhookEndpoint>('/v1/webhooks').then((page) => setEndpoints(page.data), setError);
  }, []);
  return (
    <main>
      <div className="heading">
        <h1>Webhooks</h1>
        {managesOrg(session) && (
          <Link to="/webhooks/new" className="button">
            + Add endpoint
          </Link>
        )}
      </div>
      <ErrorNotice error={error} />
      {endpoints === null && !error && <p aria-live="polite">Loading endpoints…</p>}
      {endpoints !== null && endpoints.length === 0 && <p className="empty">No webhook endpoints yet</p>}
      {endpoints !== null && endpoints.length > 0 && (
        <table>
          <caption className="visually-hidden">Webhook endpoints of the organisation</caption>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Description</th>
              <th scope="col">Events</th>
              <th scope="col">Environment</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.map((endpoint) => (
              <tr key={endpoint.id}>
                <td>
                  <Link to={`/webhooks/${endpoint.id}`}>{endpoint.url}</Link>
                </td>
                <td>{endpoint.description ?? '—'}</td>
                <td>{endpoint.events.join(', ')}</td>
                <td>{endpoint.environment}</td>
                <td>{endpoint.status}</td>
                <td>{formatDate(endpoint.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

export function NewWebhookPage({ session }: { session: Session }) {
  const [catalogue, setCatalogue] = useState<WebhookEventType[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<CreatedWebhookEndpoint | null>(null);
  const liveApproved = session.org.live_access === 'approved';
  useEffect(() => {
    apiPage<WebhookEventType>('/v1/webhooks/event-types').then((page) => setCatalogue(page.data), setError);
  }, []);

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const events = form.getAll('events').filter((value): value is string => typeof value === 'string');
    const body: Record<string, unknown> = {
      url: formText(form, 'url').trim(),
      events: events.includes('*') ? ['*'] : events,
      environment: form.get('environment') === 'live' ? 'live' : 'test',
    };
    const description = formText(form, 'description').trim();
    if (description) body.description = description;
    setBusy(true);
    setError(null);
    try {
      setCreated(await api<CreatedWebhookEndpoint>('POST', '/v1/webhooks', body));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  if (created) return <SigningSecretShownOnce created={created} />;
  return (
    <main className="narrow">
      <h1>Add webhook endpoint</h1>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Field id="url" label="Endpoint URL" error={fieldError(error, 'url')}>
          <input id="url" name="url" type="url" required maxLength={2048} placeholder="https://example.com/webhooks/latchkey" />
        </Field>
        <Field id="description" label="Description (optional)" error={fieldError(error, 'description')}>
          <textarea id="description" name="description" rows={2} maxLength={500} />
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
              Production events start once a platform operator approves your organisation’s production access.
            </p>
          )}
        </fieldset>
        <fieldset>
          <legend>Event types</legend>
          {catalogue === null && !error && <p aria-live="polite">Loading event types…</p>}
          <label className="choice">
            <input type="checkbox" name="events" value="*" /> Every event (including types added later)
          </label>
          {catalogue?.map((type) => (
            <label className="choice" key={type.type}>
              <input type="checkbox" name="events" value={type.type} /> <code>{type.type}</code> — {type.description}
            </label>
          ))}
          {fieldError(error, 'events') && <p className="field-error">{fieldError(error, 'events')}</p>}
        </fieldset>
        <ErrorNotice error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Adding…' : 'Add endpoint'}
        </button>{' '}
        <Link to="/webhooks">Cancel</Link>
      </form>
    </main>
  );
}

/** Like a key's secret, the signing secret lives only in this component's state. */
function SigningSecretShownOnce({ created }: { created: CreatedWebhookEndpoint }) {
  return (
    <main className="narrow">
      <h1>Your endpoint’s signing secret</h1>
      <div className="warning" role="status">
        <strong>Copy the signing secret now: it will not be displayed again.</strong> Your receiver verifies each delivery’s signature with
        it; if you lose it, rotate the secret.
      </div>
      <label htmlFor="signing-secret">Signing secret for {created.url}</label>
      <div className="secret-row">
        <input id="signing-secret" readOnly value={created.secret} onFocus={(event) => event.currentTarget.select()} />
      </div>
      <p>
        <Link to={`/webhooks/${created.id}`}>View endpoint and deliveries</Link> · <Link to="/webhooks">Back to webhooks</Link>
      </p>
    </main>
  );
}

/** How many times the test's delivery is looked for (a second apart) before the page says it is still on its way. */
const TEST_POLLS = 20;

function describeDelivery(delivery: WebhookDelivery): string {
  const last = delivery.attempts[delivery.attempts.length - 1];
  if (!last) return `${delivery.status}: not attempted yet`;
  const answer = last.status_code !== null ? `HTTP ${last.status_code}` : (last.error ?? 'no answer');
  return `${delivery.status}: ${answer} in ${last.duration_ms} ms`;
}

export function WebhookDetailPage({ id, session }: { id: string; session: Session }) {
  const [endpoint, setEndpoint] = useState<WebhookEndpoint | null>(null);
  const [deliveries, setDeliveries] = useState<WebhookDelivery[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [testError, setTestError] = useState<unknown>(null);
  const [testResult, setTestResult] = useState<string | null>(null);
  const [testing, setTesting] = useState(false);
  const base = `/v1/webhooks/${encodeURIComponent(id)}`;

  async function loadDeliveries(): Promise<WebhookDelivery[]> {
    const page = await apiPage<WebhookDelivery>(`${base}/deliveries`);
    setDeliveries(page.data);
    return page.data;
  }

  // Set false when the page is left, which ends a test's polling.
  const shown = useRef(true);
  useEffect(() => {
    shown.current = true;
    api<WebhookEndpoint>('GET', base).then(setEndpoint, setError);
    loadDeliveries().catch(setError);
    return () => {
      shown.current = false;
    };
  }, [id]);

  async function sendTest() {
    setTesting(true);
    setTestError(null);
    setTestResult('Sending a webhook.test event…');
    try {
      const test = await api<WebhookTest>('POST', `${base}/test`);
      for (let poll = 0; poll < TEST_POLLS && shown.current; poll += 1) {
        const found = (await loadDeliveries()).find((delivery) => delivery.event_id === test.event_id);
        if (found && (found.status !== 'pending' || found.attempts.length > 0)) {
          setTestResult(`Test event ${test.event_id}: ${describeDelivery(found)}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      setTestResult(`Test event ${test.event_id} is queued and not delivered yet; refresh the delivery log to see its attempts.`);
    } catch (caught) {
      setTestResult(null);
      setTestError(caught);
    } finally {
      setTesting(false);
    }
  }

  return (
    <main>
      <p>
        <Link to="/webhooks">← Webhooks</Link>
      </p>
      <ErrorNotice error={error} />
      {!endpoint && !error && <p aria-live="polite">Loading endpoint…</p>}
      {endpoint && (
        <>
          <h1>Webhook endpoint</h1>
          <dl className="details">
            <dt>Id</dt>
            <dd>
              <code>{endpoint.id}</code>
            </dd>
            <dt>URL</dt>
            <dd>{endpoint.url}</dd>
            <dt>Description</dt>
            <dd>{endpoint.description ?? '—'}</dd>
            <dt>Events</dt>
            <dd>{endpoint.events.join(', ')}</dd>
            <dt>Environment</dt>
            <dd>{endpoint.environment}</dd>
            <dt>Status</dt>
            <dd>{endpoint.status}</dd>
            <dt>Created</dt>
            <dd>{formatDate(endpoint.created_at)}</dd>
          </dl>
          {managesOrg(session) && (
            <p>
              <button type="button" disabled={testing || endpoint.status !== 'enabled'} onClick={() => void sendTest()}>
                {testing ? 'Testing…' : 'Send test'}
              </button>
            </p>
          )}
          <p role="status" className="test-result">
            {testResult}
          </p>
          <ErrorNotice error={testError} />
        </>
      )}
      <section aria-labelledby="deliveries-heading">
        <div className="heading">
          <h2 id="deliveries-heading">Delivery log</h2>
          <button type="button" className="secondary" onClick={() => void loadDeliveries().catch(setError)}>
            Refresh
          </button>
        </div>
        {deliveries !== null && deliveries.length === 0 && <p className="empty">No deliveries yet</p>}
        {deliveries !== null && deliveries.length > 0 && (
          <table>
            <caption className="visually-hidden">Deliveries to this endpoint, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((delivery) => (
                <tr key={delivery.id}>
                  <td>
                    <code>{delivery.event_id}</code>
                  </td>
                  <td>{delivery.event_type}</td>
                  <td>{delivery.status}</td>
                  <td>{delivery.attempt_count}</td>
                  <td>{describeDelivery(delivery)}</td>
                  <td>{formatDate(delivery.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </main>
  );
}
