// The gateway's process guard: runs one `type: process` server in a process group of its own and stops that group if
// the gateway goes without stopping it (SIGKILL, a crash). The engine notices its parent going over its IPC channel;
// vLLM, TGI or llama-server cannot, and one left running holds its GPU memory and its port.
//   process-guard <stop signal> <grace ms> <program> [args ...]   (started with an IPC channel to the gateway)
// It tells the gateway the server's pid ({type: 'started'}), which the gateway signals directly (its whole group), or
// that the program could not run ({type: 'failed'}); it exits as the server exits, by the same code or signal.
// Kept free of the project's libraries, so that it starts in milliseconds.
import { spawn } from 'node:child_process';

const [stopSignal = 'SIGTERM', graceArg = '10000', program, ...args] = process.argv.slice(2);
if (program === undefined || process.send === undefined) {
  process.stderr.write('usage: process-guard <stop signal> <grace ms> <program> [args ...], with an IPC channel\n');
  process.exit(2);
}

const server = spawn(program, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });

const signalGroup = (signal: NodeJS.Signals) => {
  try {
    if (server.pid !== undefined) process.kill(-server.pid, signal);
  } catch {
    // the group is gone already
  }
};

/** The stop signal to the server's group, SIGKILL after the grace if it is still there. */
function stopServer(signal: NodeJS.Signals): void {
  signalGroup(signal);
  setTimeout(() => signalGroup('SIGKILL'), Number(graceArg)).unref();
}

const forwarded: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
for (const signal of forwarded) process.on(signal, () => stopServer(signal));

server.on('spawn', () => process.send?.({ type: 'started', pid: server.pid }));
server.on('error', (error) => {
  if (server.pid !== undefined) return; // an error signalling a server that runs: its exit still ends this
  process.send?.({ type: 'failed', reason: `cannot run ${program}: ${error.message}` }, undefined, undefined, () =>
    process.exit(127),
  );
});
server.on('exit', (code, signal) => {
  process.channel?.unref();
  if (signal === null) process.exit(code ?? 1);
  for (const name of forwarded) process.removeAllListeners(name);
  process.kill(process.pid, signal); // ends this process the way the server ended
});
process.on('disconnect', () => stopServer(stopSignal as NodeJS.Signals));
