/**
 * @module
 * The one error type the HTTP layer turns into a response. Every rejection the server makes itself
 * must still be JSON `{"error": "…"}`, never HTML or plain text, or `@upstash/redis` throws
 * `UpstashJSONParseError` instead of `UpstashError` (reference `upstash-and-workers.md` §6.9, §2.3).
 */

/** A request the server refuses on its own, with the HTTP status and the Redis-style message to send. */
export class HttpError extends Error {
  override readonly name = 'HttpError'
  readonly status: number

  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

/** Serialises the error body the way Upstash does: only the `error` field (§1.4). */
export function errorBody(message: string): string {
  return JSON.stringify({ error: message })
}
