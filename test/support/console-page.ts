import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's headless Chromium, or $CHROMIUM. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** What a model's row of the console shows, read from its text as a person would (durations in ms, rates per s). */
export interface ConsoleRow {
  state: string;
  requestsPerS: number | null;
  latencyP50: number | null;
  latencyP99: number | null;
  ttftP50: number | null;
  ttftP99: number | null;
  errors: string;
}

export interface ConsolePage {
  browser: Browser;
  page: Page;
  /** Every model row of the table, by model id. */
  rows(): Promise<Record<string, ConsoleRow>>;
  /** Resolves once the page shows `state` for the model (in its state cell, not its list of changes). */
  waitForState(modelId: string, state: string, options?: { not?: boolean; timeoutMs?: number }): Promise<void>;
  /** Resolves once the page shows data generated after `since` (epoch ms). */
  waitForUpdateAfter(since: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens GET /console in headless Chromium with every host name but the gateway's unresolvable, so a page that reached
 * past the gateway for a script or a font would break. Script errors fail the page's users: they are collected and
 * thrown by close().
 */
export async function openConsole(
  gatewayUrl: string,
  { viewport = { width: 1440, height: 900 } }: { viewport?: { width: number; height: number } } = {},
): Promise<ConsolePage> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is needed and is not at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${new URL(gatewayUrl).hostname}`,
    ],
  });
  const page = await browser.newPage({ viewport });
  const scriptErrors: string[] = [];
  page.on('pageerror', (error) => scriptErrors.push(error.message));
  try {
    await page.goto(`${gatewayUrl}/console`);
    await page.waitForSelector('#models tbody tr[data-model]');
  } catch (error) {
    await browser.close();
    throw error;
  }
  return {
    browser,
    page,
    rows: () => readRows(page),
    // Functions, not strings, run in the page (the console's CSP forbids eval); untyped, as the tests compile without
    // the DOM's types.
    async waitForState(modelId, state, { not = false, timeoutMs = 30_000 } = {}) {
      await page.waitForFunction(
        ([id, expected, unlike]) => {
          const cell = (globalThis as any).document.querySelector(
            `#models tr[data-model="${id}"] [data-field="state"]`,
          );
          return cell !== null && (cell.dataset.value === expected) !== unlike;
        },
        [modelId, state, not] as const,
        { timeout: timeoutMs, polling: 100 },
      );
    },
    async waitForUpdateAfter(since, timeoutMs = 10_000) {
      await page.waitForFunction(
        (after) => Date.parse((globalThis as any).document.getElementById('updated').dataset.generatedAt) > after,
        since,
        { timeout: timeoutMs, polling: 100 },
      );
    },
    async close() {
      await browser.close();
      if (scriptErrors.length > 0) throw new Error(`the console's script failed: ${scriptErrors.join('; ')}`);
    },
  };
}

/** A figure as the table shows it ("35.6 ms", "1.2 s", "4.17"); null for "—". */
function figure(text: string | null): number | null {
  const match = /^([\d.]+)\s*(ms|s)?$/.exec((text ?? '').trim());
  if (!match) return null;
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

/** The table's rows, read through the page's own text (the tests run without DOM types). */
async function readRows(page: Page): Promise<Record<string, ConsoleRow>> {
  const rows: Record<string, ConsoleRow> = {};
  for (const row of await page.locator('#models tbody tr[data-model]').all()) {
    const text = (field: string) => row.locator(`[data-field="${field}"]`).first().textContent();
    rows[(await row.getAttribute('data-model'))!] = {
      state: (await row.locator('[data-field="state"] .pill').textContent()) ?? '',
      requestsPerS: figure(await text('requests_per_s')),
      latencyP50: figure(await text('latency_p50')),
      latencyP99: figure(await text('latency_p99')),
      ttftP50: figure(await text('ttft_p50')),
      ttftP99: figure(await text('ttft_p99')),
      errors: (await text('errors')) ?? '',
    };
  }
  return rows;
}
