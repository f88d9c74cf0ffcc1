import http from 'node:http';
import https from 'node:https';

export interface BackendAgentOptions {
  keepAliveIdleMs?: number;
  maxSockets?: number;
}

/**
 * TGI (axum/hyper) and our engine keep an idle connection open for 72 s. We close ours after 4 s by default, well
 * before the backend does, so a request is never written into a socket the backend is closing at that moment
 * (the stale keep-alive bug of many gateways); a backend that announces a shorter one (`Keep-Alive: timeout=N`, as
 * Node servers do) has it honoured by Node's agent, which lets the socket go a second before. The race that remains (a
 * backend restart, a proxy in between with a shorter timeout) is covered by the one retry of a reset before the
 * first byte (for an answer that comes only at its end, only a reset right after the write: backend-call.ts).
 */
const DEFAULT_KEEP_ALIVE_IDLE_MS = 4_000;

export function createBackendAgent(protocol: 'http:' | 'https:', options: BackendAgentOptions = {}): http.Agent {
  const agentOptions: http.AgentOptions = {
    keepAlive: true,
    // Node destroys a socket on this timeout only while it is free (its idle timeout): a request that owns the socket
    // is bounded by its own timers (the stream call's, axios's for the control calls).
    timeout: options.keepAliveIdleMs ?? DEFAULT_KEEP_ALIVE_IDLE_MS,
    maxSockets: options.maxSockets ?? Infinity,
    // Sized for the caps, not Node's default of 256 idle sockets: the dispatch queue bounds a backend's calls at once,
    // and every socket of a burst stays pooled until its idle timeout instead of reconnecting on the next one.
    maxFreeSockets: options.maxSockets ?? Infinity,
    // LIFO reuses the warmest socket and lets surplus ones idle out, so the pool shrinks after a burst.
    scheduling: 'lifo',
  };
  return protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
}
