/**
 * @module The Workers Analytics Engine data point tiercache writes for a sampled request (fleet-wide
 * stats: every isolate in every data centre writes to the same dataset; the README has the SQL).
 *
 * Layout (Analytics Engine columns are positional):
 * - index1: the tier that answered (`memory`, `edge`, `redis`, `origin`), the sampling key;
 * - blob1: tier, blob2: outcome (`hit`, `stale`, `revalidated`, `miss`, `bypass`), blob3: the data
 *   centre (`request.cf.colo`, empty outside Cloudflare), blob4: the HTTP method;
 * - double1: response status, double2: body bytes (`Content-Length`, 0 when unknown or streamed),
 *   double3: time in the worker until the answer, ms, double4: the sampling weight (1 / sample rate), so
 *   `SUM(_sample_interval * double4)` counts requests.
 *
 * No URL, key or header value is written: a per-user key names a user, and the dataset is not the
 * place for it.
 */
import type { ServedBy } from './hot-keys.ts'

/** One Analytics Engine data point. */
export interface AnalyticsPoint {
  indexes: [string]
  blobs: [string, string, string, string]
  doubles: [number, number, number, number]
}

export function analyticsPoint(request: Request, tier: ServedBy, outcome: string, response: Response, durationMs: number, sampleRate: number): AnalyticsPoint {
  const cf = (request as Request & { cf?: { colo?: unknown } }).cf
  const colo = typeof cf?.colo === 'string' ? cf.colo : ''
  const bytes = Number(response.headers.get('content-length') ?? 0) || 0
  return {
    indexes: [tier],
    blobs: [tier, outcome, colo, request.method],
    doubles: [response.status, bytes, Math.max(0, Math.round(durationMs * 1000) / 1000), 1 / sampleRate],
  }
}
