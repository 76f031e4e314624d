/**
 * @module The data-API benchmark worker: one value served four ways, so the data API's cost shows as ratios
 * against what a Worker author would write without it.
 *
 * - `/map/:k`: a plain `Map` lookup in module scope (the cheapest in-isolate cache there is);
 * - `/get-or-set/:k`: `dataCache(c).getOrSet(k, loader, { ttl })` (a memory hit once warm, or with the
 *   memory tier admitting nothing and `EDGE_CACHE=off`, a Redis hit: one Upstash request);
 * - `/upstash-get/:k`: a bare `@upstash/redis` `GET` of the same JSON, as the client's README writes it;
 * - `POST /seed/:k`: stores the value for `/upstash-get` (the data API fills itself on its first call).
 * Each answers the value as JSON.
 */
import { Hono } from 'hono'
import { Redis } from '@upstash/redis/cloudflare'
import { dataCache } from '../../../src/data/index.ts'

interface Env {
  UPSTASH_REDIS_REST_URL: string
  UPSTASH_REDIS_REST_TOKEN: string
  REDIS_PREFIX: string
}

/** The value every route serves: a small row, as a query result would be. */
const VALUE = { id: 42, name: 'Ada Lovelace', email: 'ada@example.com', roles: ['admin', 'author'], active: true }

const map = new Map<string, typeof VALUE>()
let redis: Redis | undefined

const app = new Hono<{ Bindings: Env }>()

app.get('/map/:k', (c) => {
  const k = c.req.param('k')
  let value = map.get(k)
  if (value === undefined) map.set(k, (value = structuredClone(VALUE)))
  return c.json(value)
})

app.get('/get-or-set/:k', async (c) => c.json(await dataCache(c).getOrSet(c.req.param('k'), () => VALUE, { ttl: 3600 })))

const bare = (env: Env): Redis => (redis ??= new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, enableTelemetry: false }))

app.get('/upstash-get/:k', async (c) => c.json(await bare(c.env).get<typeof VALUE>(`${c.env.REDIS_PREFIX}bare:${c.req.param('k')}`)))

app.post('/seed/:k', async (c) => {
  await bare(c.env).set(`${c.env.REDIS_PREFIX}bare:${c.req.param('k')}`, VALUE, { ex: 3600 })
  return c.json({ ok: true })
})

export default app
