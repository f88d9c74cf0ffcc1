/**
 * What a server that we start as a child process (the local engine under the gateway or a test, the TGI stand-in's
 * process) tells its parent over Node's IPC channel (`process.send`; the parent spawns it with 'ipc' in its stdio).
 * The parent learns the address and the load's outcome from these messages, never from log lines, which are for
 * people. A process started without the channel (by hand, in a container) sends nothing.
 */
export type ServerProcessMessage =
  /** The port is bound: the base URL to call. */
  | { type: 'listening'; url: string }
  /** The model is loaded (in `loadMs`). The server's health route stays the judge of readiness. */
  | { type: 'ready'; loadMs: number }
  /** The model will not load; the process stays up and its health route answers 503 with the reason. */
  | { type: 'failed'; reason: string }
  /** From the process guard of a `type: process` server: the server runs, with this pid (the leader of its group). */
  | { type: 'started'; pid: number };

type ServerProcessMessageType = ServerProcessMessage['type'];

type MessageOf<T extends ServerProcessMessageType> = Extract<ServerProcessMessage, { type: T }>;

/**
 * Whether what came over the channel is one of these messages (of the given type, if one is named). The channel is
 * Node's JSON: anything can arrive on it, so the parent checks before it believes.
 */
export function isServerProcessMessage<T extends ServerProcessMessageType = ServerProcessMessageType>(
  value: unknown,
  type?: T,
): value is MessageOf<T> {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  if (type !== undefined && message.type !== type) return false;
  switch (message.type) {
    case 'listening':
      return typeof message.url === 'string';
    case 'ready':
      return typeof message.loadMs === 'number';
    case 'failed':
      return typeof message.reason === 'string';
    case 'started':
      return typeof message.pid === 'number';
    default:
      return false;
  }
}
