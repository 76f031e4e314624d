/**
 * @module Baseline "the limit": a worker that answers every request with a constant response and does
 * nothing else. Same runtime host (workerd through Miniflare), same bytes on the wire as a tiercache
 * memory hit (status, headers and body are passed in as vars, captured from a real hit), so the only
 * difference to tiercache is the cache's own work.
 */

interface Env {
  /** JSON `{ status, headers, body }` (see ../baselines/node-constant.ts `ConstantResponse`). */
  CONSTANT_RESPONSE: string
}

// The headers are built once as a `Headers` object: workerd copies one natively, where a list of pairs
// is converted field by field on every response (about 30 µs here). The limit should be the fastest
// constant response this host can send, so the baseline takes the fast form too.
let cached: { raw: string; status: number; headers: Headers; body: Uint8Array } | undefined

export default {
  fetch(_request: Request, env: Env): Response {
    if (cached?.raw !== env.CONSTANT_RESPONSE) {
      const parsed = JSON.parse(env.CONSTANT_RESPONSE) as { status: number; headers: Record<string, string>; body: string }
      cached = { raw: env.CONSTANT_RESPONSE, status: parsed.status, headers: new Headers(Object.entries(parsed.headers)), body: new TextEncoder().encode(parsed.body) }
    }
    return new Response(cached.body, { status: cached.status, headers: cached.headers })
  },
}
