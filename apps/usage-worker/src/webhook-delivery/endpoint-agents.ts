import http from 'node:http';
import https from 'node:https';

export interface EndpointAgentSettings {
  /** Sockets per endpoint. The in-flight cap per endpoint, so a send never waits inside the agent. */
  maxSockets: number;
  /**
   * An idle keep-alive socket is closed after this long. Kept under the 5 s that Node
   * servers (and many proxies) wait before they close idle connections, so we rarely
   * reuse a socket the subscriber is closing; a shorter `Keep-Alive: timeout=` hint from
   * the subscriber wins (Node's agent reads it).
   */
  freeSocketTimeoutMs: number;
  /** An agent unused this long is destroyed: its endpoint may have been deleted, disabled or edited elsewhere. */
  idleMs: number;
  /** Agents kept at most; beyond it, idle ones are destroyed least recently used first. */
  maxAgents: number;
}

interface Entry {
  origin: string;
  agent: http.Agent;
  inFlight: number;
  lastUsedAt: number;
  /** Closed while sends were in flight: destroyed when the last one settles. */
  retired: boolean;
}

/**
 * One keep-alive agent per webhook endpoint (and the origin of its URL), so bursts
 * to an endpoint reuse a few connections instead of a TCP (and TLS) handshake per
 * delivery. Per endpoint, not per host: endpoints of different organisations, or a
 * hanging endpoint and its neighbours on the same host, never share (or wait for)
 * each other's sockets. Agents are destroyed when their endpoint is disabled, when its
 * URL moves to another origin, and when unused for `idleMs`.
 */
export class EndpointAgents {
  /** Map order is least recently used first. */
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly settings: EndpointAgentSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweepIdle(), Math.max(1_000, Math.min(settings.idleMs, 30_000)));
    this.sweeper.unref();
  }

  /** Runs `send` with the endpoint's agent for `target`'s origin, counted in flight until it settles. */
  async use<T>(endpointId: string, target: URL, send: (agent: http.Agent) => Promise<T>): Promise<T> {
    const entry = this.entryFor(endpointId, target);
    entry.inFlight += 1;
    try {
      return await send(entry.agent);
    } finally {
      entry.inFlight -= 1;
      entry.lastUsedAt = this.now();
      if (entry.retired && entry.inFlight === 0) entry.agent.destroy();
    }
  }

  /** Destroys the endpoint's agent and its sockets (sends in flight finish first). */
  close(endpointId: string): void {
    const entry = this.entries.get(endpointId);
    if (!entry) return;
    this.entries.delete(endpointId);
    this.retire(entry);
  }

  /** Destroys every agent unused for `idleMs` with nothing in flight; answers how many. */
  sweepIdle(now = this.now()): number {
    let destroyed = 0;
    for (const [endpointId, entry] of this.entries) {
      if (entry.inFlight === 0 && now - entry.lastUsedAt >= this.settings.idleMs) {
        this.entries.delete(endpointId);
        entry.agent.destroy();
        destroyed += 1;
      }
    }
    return destroyed;
  }

  has(endpointId: string): boolean {
    return this.entries.has(endpointId);
  }

  get size(): number {
    return this.entries.size;
  }

  closeAll(): void {
    clearInterval(this.sweeper);
    for (const entry of this.entries.values()) entry.agent.destroy();
    this.entries.clear();
  }

  private entryFor(endpointId: string, target: URL): Entry {
    const existing = this.entries.get(endpointId);
    this.entries.delete(endpointId);
    if (existing && existing.origin === target.origin) {
      this.entries.set(endpointId, existing);
      return existing;
    }
    // The endpoint's URL moved to another origin: its old connections are of no further use.
    if (existing) this.retire(existing);
    const entry: Entry = { origin: target.origin, agent: this.newAgent(target), inFlight: 0, lastUsedAt: this.now(), retired: false };
    this.entries.set(endpointId, entry);
    this.evictBeyondMax(endpointId);
    return entry;
  }

  private newAgent(target: URL): http.Agent {
    const options: http.AgentOptions = {
      keepAlive: true,
      maxSockets: this.settings.maxSockets,
      maxFreeSockets: this.settings.maxSockets,
      timeout: this.settings.freeSocketTimeoutMs,
      // Most recently used socket first: a burst reuses the warm ones and the rest time out.
      scheduling: 'lifo',
    };
    return target.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  }

  private retire(entry: Entry): void {
    entry.retired = true;
    if (entry.inFlight === 0) entry.agent.destroy();
  }

  /** Busy agents (and the one about to be used) are never evicted: at most the worker's concurrency of them are busy at once. */
  private evictBeyondMax(keep: string): void {
    for (const [endpointId, entry] of this.entries) {
      if (this.entries.size <= this.settings.maxAgents) return;
      if (entry.inFlight > 0 || endpointId === keep) continue;
      this.entries.delete(endpointId);
      entry.agent.destroy();
    }
  }
}
