/**
 * The TGI stand-in as a process of its own, for benchmarks: the load generator and the gateway then do not share its
 * event loop. Options (TgiStandInOptions with a fixed script) come as JSON in argv[2]; prints `stand-in on URL`.
 */
import { startTgiStandIn, type TgiStandInOptions } from '#backends/testing';

const standIn = await startTgiStandIn(JSON.parse(process.argv[2] ?? '{}') as TgiStandInOptions);
process.stdout.write(`stand-in on ${standIn.url}\n`);
// Ends with its parent: the pipe on stdin closes when the parent exits, however it exits.
process.stdin.on('end', () => process.exit(0)).resume();
process.on('SIGTERM', () => void standIn.close().then(() => process.exit(0)));
