/**
 * @module A Lua script run by its SHA-1 once Redis knows it.
 *
 * EVAL sends the whole script text on every call (about 400 bytes for the lookup, 1.2 KB for the fill).
 * The first call goes out as EVAL, which also puts the script into Redis's script cache; once it has
 * succeeded, later calls send EVALSHA with the 40-character digest. If Redis lost its script cache (a
 * restart, a failover, `SCRIPT FLUSH`) EVALSHA answers NOSCRIPT and that call falls back to EVAL, which
 * reloads it. The first call from an isolate therefore costs what it did, and no call costs two
 * requests while the cache holds the script: the "one Upstash request per Redis hit" budget is kept.
 *
 * @see https://redis.io/docs/latest/develop/interactive/programmability/eval-intro/#script-cache
 */
import type { Redis } from '@upstash/redis/cloudflare'

const hex = (bytes: ArrayBuffer): string => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('')

/** Whether `error` is Redis's answer to EVALSHA for a script it does not hold. */
export const isNoScript = (error: unknown): boolean => error instanceof Error && /\bNOSCRIPT\b/i.test(error.message)

export class RedisScript {
  readonly source: string
  /**
   * Sent as EVAL_RO / EVALSHA_RO: Redis refuses any write in it, and Upstash Global may serve it from a
   * read replica (a plain EVAL, which may write, goes to the primary: docs/design-notes.md).
   */
  readonly readOnly: boolean
  /** The script's SHA-1, set once an EVAL of it has succeeded on this client's Redis. */
  #sha: string | undefined
  #digest: Promise<string> | undefined

  constructor(source: string, options: { readOnly?: boolean } = {}) {
    this.source = source
    this.readOnly = options.readOnly ?? false
  }

  /** Whether calls go out as EVALSHA (for tests and stats). */
  get loaded(): boolean {
    return this.#sha !== undefined
  }

  async run<TArgs extends unknown[], TResult>(client: Redis, keys: string[], args: TArgs): Promise<TResult> {
    if (this.#sha !== undefined) {
      try {
        return await (this.readOnly ? client.evalshaRo<TArgs, TResult>(this.#sha, keys, args) : client.evalsha<TArgs, TResult>(this.#sha, keys, args))
      } catch (error) {
        if (!isNoScript(error)) throw error
        this.#sha = undefined
      }
    }
    const result = await (this.readOnly ? client.evalRo<TArgs, TResult>(this.source, keys, args) : client.eval<TArgs, TResult>(this.source, keys, args))
    this.#digest ??= crypto.subtle.digest('SHA-1', new TextEncoder().encode(this.source)).then(hex)
    this.#sha = await this.#digest
    return result
  }
}
