/**
 * @module `POST <internal prefix>/purge`: the signed purge webhook the origin calls after it writes.
 *
 * Order of checks, so an unauthenticated caller learns nothing: size (413) → signature (401, no
 * detail) → JSON schema (400 with the precise problem) → fan-out (200 with a receipt; 503 when Redis
 * could not commit, so the origin retries). A repeated purge id gets the first receipt back.
 */
import type { Context } from 'hono'
import { cacheKey } from '../policy/key.ts'
import { replayId, verifySignature } from './auth.ts'
import { PurgeNotCommitted, type PurgeFanout } from './fanout.ts'
import { parsePurgeBody, type PurgeRequest } from './payload.ts'
import { readBoundedText } from './read-bounded.ts'
import { SIGNATURE_HEADER } from './signature.ts'
import type { PurgeScope } from '../coherence/purge-log.ts'
import { userTag } from '../coherence/purge-record.ts'

/** Webhook settings. */
export interface PurgeRouteConfig {
  /** Accepted secrets: the current one and, during a rotation, the previous one. */
  secrets: string[]
  /** Largest accepted body in bytes. */
  maxBytes: number
  ignoreQueryParams: string[]
  now: () => number
}

const json = (body: unknown, status: number) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } })

/** Turns the request's URLs and prefixes into cache keys, relative ones against the webhook's origin. */
export function purgeScope(request: PurgeRequest, base: URL, ignoreQueryParams: string[]): PurgeScope {
  const key = (value: string) => cacheKey(new URL(value, base), { ignoreQueryParams })
  return {
    urls: [...new Set(request.urls.map(key))],
    // A user's copies all carry the user's purge tag (src/coherence/purge-record.ts `userTag`).
    tags: [...new Set([...request.tags, ...request.users.map(userTag)])],
    prefixes: [...new Set(request.prefixes.map(key))],
    all: request.everything,
    soft: request.soft,
  }
}

/** Handles one webhook call. */
export async function handlePurge(c: Context, fanout: Pick<PurgeFanout, 'purge'>, config: PurgeRouteConfig): Promise<Response> {
  if (config.secrets.length === 0) return json({ error: 'not found' }, 404)
  const body = await readBoundedText(c.req.raw, config.maxBytes)
  if (body === undefined) return json({ error: `body larger than ${config.maxBytes} bytes` }, 413)
  const header = c.req.header(SIGNATURE_HEADER)
  const signed = await verifySignature(header ?? null, body, config.secrets, Math.floor(config.now() / 1000))
  if (!signed) return json({ error: 'unauthorized' }, 401)
  const parsed = parsePurgeBody(body)
  if (!parsed.ok) return json({ error: parsed.error }, 400)
  // Without an id, the signed content names the request, never the header text (see replayId).
  const id = parsed.value.id ?? (await replayId(signed, body))
  const scope = purgeScope(parsed.value, new URL(c.req.url), config.ignoreQueryParams)
  let ctx: unknown
  try {
    ctx = c.executionCtx
  } catch {
    ctx = undefined
  }
  try {
    const receipt = await fanout.purge(scope, id, ctx as Parameters<PurgeFanout['purge']>[2])
    return json(receipt, 200)
  } catch (error) {
    if (error instanceof PurgeNotCommitted) {
      console.error(`[tiercache] purge ${id} not committed: ${error.message}`)
      return json({ error: 'purge not committed: the Redis tier is unavailable; retry with the same id', id }, 503)
    }
    throw error
  }
}
