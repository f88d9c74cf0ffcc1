/**
 * The TGI stand-in as a process of its own, for benchmarks: the load generator and the gateway then do not share its
 * event loop. Options (TgiStandInOptions with a fixed script) come as JSON in argv[2]. It prints `stand-in on URL`
 * for people and reports the URL to its parent over the IPC channel (startStandInProcess), as the engine does.
 */
import { startTgiStandIn, type TgiStandInOptions } from '#backends/testing';
import { onParentGone, tellParent } from '#engine/parent-channel';

const standIn = await startTgiStandIn(JSON.parse(process.argv[2] ?? '{}') as TgiStandInOptions);
process.stdout.write(`stand-in on ${standIn.url}\n`);
tellParent({ type: 'listening', url: standIn.url });
onParentGone(() => process.exit(0));
process.on('SIGTERM', () => void standIn.close().then(() => process.exit(0)));
