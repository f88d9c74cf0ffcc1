import http from 'node:http';
import https from 'node:https';
import { DEFAULT_KEEP_ALIVE_IDLE_MS, type BackendPoolOptions } from './backend-pool.js';

/**
 * The keep-alive agent of a backend's control calls (`/health`, `/info`, `/v1/models`, through axios); its
 * generation calls have their own connections (backend-pool.ts). Idle sockets close after 4 s by default, well before
 * TGI's and our engine's 72 s (DEFAULT_KEEP_ALIVE_IDLE_MS), as the generation connections do; a backend that
 * announces a shorter keep-alive (`Keep-Alive: timeout=N`) has it honoured by Node's agent.
 */

export function createBackendAgent(protocol: 'http:' | 'https:', options: BackendPoolOptions = {}): http.Agent {
  const agentOptions: http.AgentOptions = {
    keepAlive: true,
    // Node destroys a socket on this timeout only while it is free (its idle timeout): a request that owns the socket
    // is bounded by axios's timeout.
    timeout: options.keepAliveIdleMs ?? DEFAULT_KEEP_ALIVE_IDLE_MS,
    maxSockets: options.maxSockets ?? Infinity,
    maxFreeSockets: options.maxSockets ?? Infinity,
    // LIFO reuses the warmest socket and lets surplus ones idle out.
    scheduling: 'lifo',
  };
  return protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
}
