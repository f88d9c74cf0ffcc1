import type { ServerProcessMessage } from '#backends';

/**
 * A server process's side of the IPC channel to the process that started it (the engine's under the gateway or a
 * test; the TGI stand-in's in test/support): present only when the parent asked for one ('ipc' in its stdio, or
 * fork). It lives here, not in libs/backends with the message type, so that the engine never loads that library's
 * index (axios, Nest: most of a second) to start.
 */
export const hasParentChannel = (): boolean => process.send !== undefined;

/** Sends one message if the channel is still open; a parent that has just gone is no error here. */
export function tellParent(message: ServerProcessMessage): void {
  if (!process.send || !process.connected) return;
  process.send(message, undefined, undefined, () => undefined);
}

/**
 * Calls `onGone` once when the channel closes, which it does when the parent exits, however it exits (SIGKILL too);
 * at once if it closed before this was called; never without a channel. The channel is unreferenced: it never keeps
 * the process running by itself.
 */
export function onParentGone(onGone: () => void): void {
  if (!hasParentChannel()) return;
  if (!process.connected) return queueMicrotask(onGone);
  process.once('disconnect', onGone);
  process.channel?.unref();
}
