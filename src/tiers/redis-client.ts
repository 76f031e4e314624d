/**
 * @module The Upstash client as tiercache uses it on the request path: the Cloudflare entry of
 * `@upstash/redis`, a deadline on every call (`signal` as a function, so each request gets a fresh
 * timer), no retries (a retry would multiply the latency of an outage), and raw strings in and out
 * because the cache stores its own encoded envelopes. See reference/upstash-and-workers.md §2.
 */
import { Redis } from '@upstash/redis/cloudflare'

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

/** Creates the hot-path Upstash client. */
export function createRedisClient({ url, token, timeoutMs, readYourWrites = true }: RedisClientOptions): Redis {
  return new Redis({
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
}
