import { Hono } from 'hono'
import { tieredCache, tiercacheRoutes } from 'tiercache'
import { dataCache } from 'tiercache/data'

type Bindings = {
  UPSTASH_REDIS_REST_URL: string
  UPSTASH_REDIS_REST_TOKEN: string
  /** Optional: share a database between deployments (tiercache's stand-alone worker uses REDIS_PREFIX too). */
  REDIS_PREFIX?: string
  ITEMS_API_URL: string
  /** Secret (wrangler secret put): signs the purge webhook. Without it the purge route answers 404. */
  PURGE_SECRET?: string
  /** Secret: Bearer token for /__tiercache/stats. */
  INTERNAL_TOKEN?: string
}

type Item = { id: string; body: string; version: number }

const app = new Hono<{ Bindings: Bindings }>()

// HTTP responses under /api/ are cached in memory, the edge and Redis. The options come from the Worker's
// env, read once per isolate on its first request.
app.use(
  '/api/*',
  tieredCache((env: Bindings) => ({
    redis: { url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, prefix: env.REDIS_PREFIX },
    routes: [{ pattern: '/api/', ttl: 30, tags: ['api'] }],
  }))
)

// The signed purge webhook (and /health, /stats) on this app's own caches: your backend POSTs to
// /__tiercache/purge after it writes; memory, the edge and Redis drop the entries, other isolates within δ.
app.route('/__tiercache', tiercacheRoutes())

app.get('/api/hello', (c) => c.json({ message: 'Hello Hono!', at: new Date().toISOString() }))

// Values inside a handler share the same tiers and purge: one loader call per cold key, fleet-wide.
app.get('/items/:id', async (c) => {
  const id = c.req.param('id')
  const item = await dataCache(c).getOrSet(`item:${id}`, () => loadItem(c.env.ITEMS_API_URL, id), { ttl: 60, tags: ['items'] })
  return item ? c.json(item) : c.notFound() // loadItem found nothing: that is cached too, for 5 s
})

/** The expensive call worth caching: a database's HTTP API, a third-party service. */
async function loadItem(apiUrl: string, id: string): Promise<Item | undefined> {
  const res = await fetch(new URL(`/items/${encodeURIComponent(id)}`, apiUrl))
  if (res.status === 404) return undefined
  if (!res.ok) throw new Error(`items API answered ${res.status} for item ${id}`)
  return (await res.json()) as Item
}

export default app
