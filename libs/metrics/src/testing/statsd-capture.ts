import dgram from 'node:dgram';

/**
 * A UDP listener that keeps every StatsD line it is sent: for checking the exact keys, types and values the gateway
 * emits. (The real daemon and Graphite are exercised by the metrics reconciliation test.)
 */
export interface StatsdCapture {
  port: number;
  lines: string[];
  /** The size of every datagram received, in order. */
  datagramBytes: number[];
  /** Sum of a counter's increments (sample rates are not used by the gateway). */
  counter(key: string): number;
  /** Every value sent for a timer, in order. */
  timings(key: string): number[];
  /** The last value of a gauge. */
  gauge(key: string): number | undefined;
  keys(): Set<string>;
  close(): Promise<void>;
}

export async function captureStatsd(): Promise<StatsdCapture> {
  const socket = dgram.createSocket('udp4');
  const lines: string[] = [];
  const datagramBytes: number[] = [];
  socket.on('message', (message) => {
    datagramBytes.push(message.length);
    for (const line of message.toString('utf8').split('\n')) if (line) lines.push(line);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const parsed = () =>
    lines.map((line) => {
      const match = /^([^:]+):([^|]+)\|([a-z]+)$/.exec(line);
      if (!match) throw new Error(`not a StatsD line: ${line}`);
      return { key: match[1]!, value: Number(match[2]), type: match[3]! };
    });
  return {
    port: socket.address().port,
    lines,
    datagramBytes,
    counter: (key) =>
      parsed()
        .filter((m) => m.key === key && m.type === 'c')
        .reduce((sum, m) => sum + m.value, 0),
    timings: (key) =>
      parsed()
        .filter((m) => m.key === key && m.type === 'ms')
        .map((m) => m.value),
    gauge: (key) =>
      parsed()
        .filter((m) => m.key === key && m.type === 'g')
        .at(-1)?.value,
    keys: () => new Set(parsed().map((m) => m.key)),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
