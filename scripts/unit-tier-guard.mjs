// Preloaded (node --import) into every unit test file by scripts/run-tests.mjs: a unit test (*.spec.ts) starts
// nothing, so starting a child process, listening on or connecting a socket (TCP, HTTP, IPC) or creating a UDP
// socket throws here, naming the rule. A test that needs any of those is an integration test: name it *.int.ts.
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

// The test runner's own process starts the test files; only the files themselves (its children) are guarded.
if (process.env.NODE_TEST_CONTEXT) {
  const refuse = (what) =>
    function refused() {
      throw new Error(
        `${what} in a unit test: *.spec.ts files start no process and open no socket (no server, no connection, ` +
          `no UDP). Fake the I/O, or rename the file to *.int.ts (integration tier: npm run test:int).`,
      );
    };
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'])
    childProcess[name] = refuse(`child_process.${name}()`);
  dgram.createSocket = refuse('dgram.createSocket() (a UDP socket)');
  // http.Server, https.Server and every TCP/IPC server are net.Server; http.request, fetch's undici, net.connect
  // and tls.connect all connect a net.Socket.
  net.Server.prototype.listen = refuse('listening on a socket (a server)');
  net.Socket.prototype.connect = refuse('connecting a socket');
  // ESM named imports of builtins (`import { spawn } from 'node:child_process'`) read the patched functions too.
  syncBuiltinESMExports();
}
