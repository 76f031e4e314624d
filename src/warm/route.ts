/**
 * @module `POST <internal prefix>/warm`: a signed request to warm a list of URLs, a sitemap, or the hot
 * set. Signed exactly as the purge webhook (`Tiercache-Signature`, src/purge/signature.ts, with the purge
 * secrets), and checked in the same order so an unauthenticated caller learns nothing: size (413) →
 * signature (401, no detail) → schema (400 with the precise problem) → the run (200 with its receipt;
 * 400 for a sitemap that is not one, 502 when the origin could not serve it).
 *
 * No replay guard beyond the ±300 s signature window: a replayed warm does no harm (fresh URLs count as
 * `alreadyFresh` and cost no origin fetch), and the budget bounds what any one run can cost.
 */
import type { Context } from 'hono'
import { verifySignature } from '../purge/auth.ts'
import { readBoundedText } from '../purge/read-bounded.ts'
import { SIGNATURE_HEADER } from '../purge/signature.ts'
import { parseWarmBody } from './request.ts'
import type { WarmDeps } from './run.ts'
import { WarmSourceError, type Warmer } from './warmer.ts'

export interface WarmRouteConfig {
  /** The purge webhook's secrets. */
  secrets: string[]
  /** Largest body, as for purges. */
  maxBytes: number
  now: () => number
}

const json = (body: unknown, status: number) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } })

/** Handles one call; `serve` sends a request through the worker (the cache in front of the origin). */
export async function handleWarm(c: Context, warmer: Warmer, config: WarmRouteConfig, serve: WarmDeps['serve']): Promise<Response> {
  if (config.secrets.length === 0) return json({ error: 'not found' }, 404)
  const body = await readBoundedText(c.req.raw, config.maxBytes)
  if (body === undefined) return json({ error: `body larger than ${config.maxBytes} bytes` }, 413)
  const signed = await verifySignature(c.req.header(SIGNATURE_HEADER) ?? null, body, config.secrets, Math.floor(config.now() / 1000))
  if (!signed) return json({ error: 'unauthorized' }, 401)
  const base = new URL(c.req.url)
  const parsed = parseWarmBody(body, base)
  if (!parsed.ok) return json({ error: parsed.error }, 400)
  try {
    return json(await warmer.run(parsed.value, base, 'request', serve), 200)
  } catch (error) {
    if (error instanceof WarmSourceError) return json({ error: error.message }, error.status)
    throw error
  }
}
