/**
 * @module
 * Global mode's routing and read-your-writes, modelled on Upstash Global (docs/design-notes.md, "Upstash
 * Global"): a request whose commands are all read-only (by Redis's own command table, so `GET`, `MGET`,
 * `EVAL_RO`, `EVALSHA_RO` …) is served by the read replica; anything that may write (`SET`, `DEL`, `EVAL`,
 * `EVALSHA`, a pipeline or transaction holding one) by the primary.
 *
 * The `upstash-sync-token` is a replication offset: every answer carries the offset of the node that
 * served it (the primary's `master_repl_offset` after a write), and a replica read that presents a token
 * waits until the replica has applied the primary's stream up to it (`slave_repl_offset`), as Upstash's
 * read-your-writes page describes. A replica that does not catch up within `syncWaitMs` hands the read to
 * the primary, so the token's promise is kept either way.
 */
import { Buffer } from 'node:buffer'
import type { RedisBackend } from './redis-backend.ts'

/** Which node served a request. */
export type Node = 'primary' | 'replica'

/** Reads an `INFO replication` field as a number. */
function infoField(text: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:(\\d+)\\r?$`, 'm').exec(text)
  return match === null ? undefined : Number(match[1])
}

/** The primary and its replica, with the offsets that make sync tokens. */
export class Replication {
  readonly #primary: RedisBackend
  readonly #replica: RedisBackend
  readonly #pollMs: number

  constructor(primary: RedisBackend, replica: RedisBackend, pollMs = 2) {
    this.#primary = primary
    this.#replica = replica
    this.#pollMs = pollMs
  }

  backend(node: Node): RedisBackend {
    return node === 'primary' ? this.#primary : this.#replica
  }

  /** The replication offset `node` has reached: the primary's own, or what the replica has applied. */
  async offset(node: Node): Promise<number> {
    const [reply] = await this.backend(node).run('standard', [['INFO', 'replication']])
    const text = reply?.kind === 'bulk' ? Buffer.from(reply.bytes).toString('utf8') : ''
    const offset = node === 'primary' ? infoField(text, 'master_repl_offset') : infoField(text, 'slave_repl_offset')
    if (offset === undefined) throw new Error(`INFO replication of the ${node} has no offset (is the replica linked?)`)
    return offset
  }

  /** Waits until the replica has applied the stream up to `token`; false if `waitMs` passes first. */
  async replicaReaches(token: number, waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs
    for (;;) {
      if ((await this.offset('replica')) >= token) return true
      if (Date.now() >= deadline) return false
      await new Promise((resolve) => setTimeout(resolve, this.#pollMs))
    }
  }
}

/** A sync token from a request: an offset this server handed out, or `undefined` (empty or foreign). */
export function parseSyncToken(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : undefined
}
