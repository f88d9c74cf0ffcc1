import { fileURLToPath } from 'node:url';

/** The worker-replica process's script (built), for a parent that spawns it with 'ipc' in its stdio. */
export const WORKER_REPLICA_SCRIPT = fileURLToPath(new URL('./worker-replica.js', import.meta.url));

/**
 * What a worker replica tells the process that started it, over Node's IPC channel: its queue is connected and its
 * workers take jobs. The `replica ready` line it also prints is for people.
 */
export interface WorkerReplicaReady {
  type: 'replica-ready';
  replicaId: string;
}

/** Whether a message from the channel is the replica's ready message (Node's JSON: anything can arrive on it). */
export function isWorkerReplicaReady(message: unknown): message is WorkerReplicaReady {
  if (typeof message !== 'object' || message === null) return false;
  const { type, replicaId } = message as Record<string, unknown>;
  return type === 'replica-ready' && typeof replicaId === 'string';
}
