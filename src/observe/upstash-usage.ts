/**
 * @module What this isolate sent to Upstash: HTTP requests and the Redis commands in them (Upstash bills
 * per command; a pipeline of three is three, a script is one). Counted where the client sends each
 * request (src/tiers/redis-client.ts), so the tier, the purge log, the zone-purge queue and the hot set
 * are all included, and auto-pipelined calls are counted as what actually went out.
 */

export class UpstashUsage {
  requests = 0
  commands = 0
  errors = 0

  /** Counts one request whose JSON body is `body` (a command array, or an array of them for a pipeline). */
  sent(body: unknown): void {
    this.requests++
    this.commands += Array.isArray(body) && Array.isArray(body[0]) ? body.length : 1
  }
}
