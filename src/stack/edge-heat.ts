/**
 * @module When an edge hit earns a copy in memory. Filling memory from every edge hit costs each one a
 * full read of the body into the isolate and an entry in the LRU, which a key requested once in a while
 * never pays back: it is evicted, or the isolate is recycled, before it is asked for again. So a key is
 * promoted on its second edge hit within {@link EDGE_PROMOTE_WINDOW_MS} in this isolate; its first is
 * served straight from the stored response (src/serve.ts `serveEdgeHit`).
 */

/** Two edge hits of one key this close together promote it into memory. */
export const EDGE_PROMOTE_WINDOW_MS = 30_000
/** Keys remembered; past this the table starts over (a hot key is seen again within the window anyway). */
const MAX_KEYS = 4096

export class EdgeHeat {
  readonly #lastHit = new Map<string, number>()

  /** Records an edge hit of `key` at `now`; true when it is the second within the window (promote it). */
  hot(key: string, now: number): boolean {
    const last = this.#lastHit.get(key)
    if (last !== undefined && now - last <= EDGE_PROMOTE_WINDOW_MS) {
      this.#lastHit.delete(key)
      return true
    }
    if (this.#lastHit.size >= MAX_KEYS) this.#lastHit.clear()
    this.#lastHit.set(key, now)
    return false
  }
}
