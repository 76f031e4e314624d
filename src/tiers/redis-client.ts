/**
 * @module The Upstash client as tiercache uses it on the request path: the Cloudflare entry of
 * `@upstash/redis`, a deadline on every call (`signal` as a function, so each request gets a fresh
 * timer), no retries (a retry would multiply the latency of an outage), and raw strings in and out
 * because the cache stores its own encoded envelopes. See reference/upstash-and-workers.md §2.
 */
import { Redis } from '@upstash/redis/cloudflare'
import type { UpstashUsage } from '../observe/upstash-usage.ts'

/** Settings for {@link createRedisClient}. */
export interface RedisClientOptions {
  url: string
  token: string
  /** Per-call deadline in ms. */
  timeoutMs: number
  /**
   * Send the last `upstash-sync-token` with each request, so a replica waits until it has this client's
   * writes (Upstash's read-your-writes). Off for the replica reads of a global database: after every
   * purge-log read (a primary script) the replica would wait out its lag before answering. @default true
   */
  readYourWrites?: boolean
}

/** The request method of the client's HTTP layer (`Requester` in @upstash/redis, not exported by its Cloudflare entry). */
interface Requester {
  request(req: { body?: unknown }): Promise<unknown>
}

/** Creates the hot-path Upstash client; with `usage`, every HTTP request it sends is counted there. */
export function createRedisClient({ url, token, timeoutMs, readYourWrites = true }: RedisClientOptions, usage?: UpstashUsage): Redis {
  const redis = new Redis({
    url,
    token,
    readYourWrites,
    retry: false,
    signal: () => AbortSignal.timeout(timeoutMs),
    // Values are base64 text produced by the entry codec: no JSON guessing, no double base64.
    automaticDeserialization: false,
    responseEncoding: false,
    enableTelemetry: false,
    // Each call from one request should batch with its siblings (one subrequest, one connection).
    enableAutoPipelining: true,
  })
  if (usage) {
    // Counted at the HTTP layer, below auto-pipelining: what actually went out. `client` is the public
    // field every command is sent through (the auto-pipeline proxy passes it through unchanged).
    const http = (redis as unknown as { client: Requester }).client
    const request = http.request.bind(http)
    http.request = (req) => {
      usage.sent(req.body)
      return request(req).catch((error: unknown) => {
        usage.errors++
        throw error
      })
    }
  }
  return redis
}
