/**
 * @module Baseline: the cache most Hono users reach for, `hono/cache`, in front of the same demo origin.
 * A miss fetches `ORIGIN_URL + path` and the middleware stores the answer in the Workers Cache API
 * (in `waitUntil`, its default); a hit is served by the middleware from the cache without calling the
 * handler. One tier (the edge), no Redis, no stampede control: the fair comparison for tiercache's
 * edge hit.
 */
import { Hono } from 'hono'
import { cache } from 'hono/cache'

interface Env {
  ORIGIN_URL: string
}

const app = new Hono<{ Bindings: Env }>()

app.use('*', cache({ cacheName: 'hono-bench', onCacheNotAvailable: false }))

app.get('*', async (c) => {
  const url = new URL(c.req.url)
  const upstream = await fetch(`${c.env.ORIGIN_URL}${url.pathname}${url.search}`)
  // A fresh Response so the middleware may add headers and clone it for the cache.
  return new Response(upstream.body, upstream)
})

export default app
