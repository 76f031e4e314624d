/**
 * @module Request accounting: how many requests reached the origin and which. Integration tests assert on
 * these ("one origin fetch for 200 concurrent requests", "the revalidation carried If-None-Match").
 * Control routes are not recorded.
 */

/** Counts since start or the last reset. */
export interface OriginStats {
  requests: number
  /** By path without query. */
  byPath: Record<string, number>
  byMethod: Record<string, number>
}

/** One recorded request, for assertions on what exactly the cache sent upstream. */
export interface RequestRecord {
  serial: number
  method: string
  /** Raw request target, query included. */
  url: string
  /** Lower-cased request headers; repeated fields joined with `, `. */
  headers: Record<string, string>
}

/** How many records {@link RequestStats.log} keeps (oldest dropped first). */
export const LOG_LIMIT = 1000

/** Mutable counters behind `stats()`, `requestLog()` and `GET /__origin/stats`. */
export class RequestStats {
  #requests = 0
  #byPath: Record<string, number> = {}
  #byMethod: Record<string, number> = {}
  #log: RequestRecord[] = []

  record(entry: RequestRecord & { path: string }): void {
    const { path, ...record } = entry
    this.#requests++
    this.#byPath[path] = (this.#byPath[path] ?? 0) + 1
    this.#byMethod[record.method] = (this.#byMethod[record.method] ?? 0) + 1
    this.#log.push(record)
    if (this.#log.length > LOG_LIMIT) this.#log.shift()
  }

  snapshot(): OriginStats {
    return { requests: this.#requests, byPath: { ...this.#byPath }, byMethod: { ...this.#byMethod } }
  }

  log(): RequestRecord[] {
    return this.#log.map((r) => ({ ...r, headers: { ...r.headers } }))
  }

  reset(): void {
    this.#requests = 0
    this.#byPath = {}
    this.#byMethod = {}
    this.#log = []
  }
}
