import type { RequestRecord } from '../metrics/request-record.js';
import type { RequestTotals } from './memory-growth.js';

/** The client's own failures: no answer came from the server. */
const UNANSWERED = new Set(['client_timeout', 'network', 'dropped']);

/** Every request of the soak, warm-up included: one that went unanswered in the warm-up counts too. */
export function requestTotals(records: RequestRecord[]): RequestTotals {
  const totals: RequestTotals = { total: 0, ok: 0, errorAnswers: 0, unanswered: 0, byStatus: {} };
  for (const r of records) {
    totals.total++;
    const key = r.status === null || r.status === 0 ? 'none' : String(r.status);
    totals.byStatus[key] = (totals.byStatus[key] ?? 0) + 1;
    if (r.ok) totals.ok++;
    else if (r.status === null || r.status === 0 || UNANSWERED.has(r.error_type ?? '')) totals.unanswered++;
    else totals.errorAnswers++;
  }
  return totals;
}
