import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMockBackend, type RunningMockBackend } from '../src/mock-backend/mock-backend.js';
import { runBench } from './bench-process.js';

/**
 * The HTML report renders offline in headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM): a screenshot
 * of the right size that is not blank, and a DOM in which every chart drew its canvas and no script failed — with
 * every host name unresolvable, so a report that reached for the network could not draw.
 */
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WIDTH = 1280;
const HEIGHT = 2000;

function chromium(profile: string, args: string[]): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND',
      `--user-data-dir=${profile}`,
      '--virtual-time-budget=5000',
      ...args,
    ],
    { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'a PNG signature');
  assert.equal(png.subarray(12, 16).toString('ascii'), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('the HTML report in headless Chromium, offline', () => {
  let mock: RunningMockBackend;
  let dir: string;
  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `Chromium is needed for this test and is not at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM=/path/to/chromium)`,
    );
    mock = await startMockBackend({ port: 0, ttftMs: 5, itlMs: 1, jitterMs: 2 });
    dir = mkdtempSync(join(tmpdir(), 'sluice-bench-report-'));
  });
  after(async () => {
    await mock?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws every chart of a run report and looks like a report', async () => {
    const out = join(dir, 'run');
    const run = await runBench([
      'run',
      '--url',
      mock.url,
      '--api',
      'tgi',
      '--rate',
      '40',
      '--duration',
      '2s',
      '--stream',
      '--max-new-tokens',
      '8,16',
      '--out',
      out,
      '--quiet',
      '--max-loop-delay-ms',
      '100000',
      '--max-schedule-lag-ms',
      '100000',
    ]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.doesNotMatch(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i, 'nothing loaded from elsewhere');
    assert.doesNotMatch(html, /<link\b/i);

    const shot = join(dir, 'run.png');
    const taken = chromium(join(dir, 'profile-1'), [
      `--window-size=${WIDTH},${HEIGHT}`,
      `--screenshot=${shot}`,
      `file://${join(out, 'report.html')}`,
    ]);
    assert.ok(existsSync(shot), `no screenshot; chromium said: ${taken.stderr.slice(-2000)}`);
    const png = readFileSync(shot);
    assert.deepEqual(pngSize(png), { width: WIDTH, height: HEIGHT });
    // A blank page of this size compresses to a few KB; tables, text and seven charts do not.
    assert.ok(png.length > 60_000, `screenshot is only ${png.length} bytes: blank?`);

    const dom = chromium(join(dir, 'profile-2'), ['--dump-dom', `file://${join(out, 'report.html')}`]).stdout;
    assert.match(dom, /data-charts-expected="7"/);
    assert.match(dom, /data-charts-rendered="7"/, 'every chart drew');
    assert.doesNotMatch(dom, /data-report-error/);
    assert.equal((dom.match(/<canvas/g) ?? []).length, 7);
    assert.match(dom, /TTFT distribution/);
  });

  it('draws the latency-vs-throughput charts of a sweep report', async () => {
    const out = join(dir, 'sweep');
    const sweep = await runBench([
      'sweep',
      '--url',
      mock.url,
      '--api',
      'tgi',
      '--rates',
      '10,30',
      '--duration',
      '1s',
      '--cooldown',
      '0s',
      '--max-new-tokens',
      '8',
      '--slo',
      'errors<1%',
      '--out',
      out,
      '--quiet',
      '--max-loop-delay-ms',
      '100000',
      '--max-schedule-lag-ms',
      '100000',
    ]);
    assert.equal(sweep.code, 0, sweep.stdout + sweep.stderr);
    const dom = chromium(join(dir, 'profile-3'), ['--dump-dom', `file://${join(out, 'report.html')}`]).stdout;
    assert.match(dom, /data-charts-rendered="2"/);
    assert.doesNotMatch(dom, /data-report-error/);
    assert.match(dom, /Latency vs throughput/);
    assert.match(dom, /30 req\/s offered/);
  });
});
