import { errorFromResponse, LatchkeyError, LatchkeyUnavailableError } from '../core/errors';
import { Verdict, VerifyRequestBody } from './verdict';
import { VerifyTransport } from './verifier';

export interface HttpVerifierOptions {
  /** Where auth-check (or the all-in-one process) listens, e.g. `http://latchkey:3000`. */
  baseUrl: string;
  /** The deployment's INTERNAL_TOKEN, sent as `x-internal-token`. */
  internalToken?: string;
  fetch?: typeof fetch;
}

/** `POST /v1/verify`, one attempt: 200 carries the verdict, anything else is an error. */
export class HttpVerifyTransport implements VerifyTransport {
  private readonly url: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HttpVerifierOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/v1/verify`;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async send(body: VerifyRequestBody, timeoutMs: number): Promise<Verdict> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.internalToken) headers['x-internal-token'] = this.options.internalToken;
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(this.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new LatchkeyUnavailableError({
        code: timedOut ? 'TIMEOUT' : 'CONNECTION_FAILED',
        reason: timedOut ? 'timeout' : 'connection',
        message: timedOut ? `POST /v1/verify got no answer within ${timeoutMs} ms.` : 'POST /v1/verify could not reach Latchkey.',
        cause: error,
      });
    }
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (response.status !== 200) {
      const error = errorFromResponse(response.status, parsed, response.headers);
      // A 500 is no verdict either: the caller fails closed on it as on an outage.
      if (response.status >= 500 && !(error instanceof LatchkeyUnavailableError)) {
        throw new LatchkeyUnavailableError({ ...error, message: error.message, reason: 'unavailable' });
      }
      throw error;
    }
    const verdict = (parsed as { data?: Verdict } | null)?.data;
    if (!verdict || typeof verdict.valid !== 'boolean' || typeof verdict.code !== 'string') {
      throw new LatchkeyError({
        status: response.status,
        code: 'UNREADABLE_RESPONSE',
        message: 'POST /v1/verify answered without a verdict.',
        requestId: response.headers.get('x-request-id'),
      });
    }
    return verdict;
  }

  async close(): Promise<void> {}
}
