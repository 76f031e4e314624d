/**
 * @module The read-replica half of a Redis lookup on an Upstash Global database (`redis.global`).
 *
 * Upstash Global serves reads from the nearest read region and writes from the primary region; a plain
 * EVAL may write, so it goes to the primary, and only EVAL_RO/EVALSHA_RO may be served by a replica
 * (docs/design-notes.md, "Upstash Global"). The lookup script takes the fill lease (a write), so on a
 * global database every Redis hit would pay the primary's round trip. This read-only peek goes first, on
 * the replica: a value (or a hit-for-miss marker) there answers the lookup; only a miss goes on to the
 * primary, which looks again (the replica may lag behind a fill) and takes the lease.
 *
 * Why a replica's copy is safe to serve: what it returns is judged against the isolate's purge-log view,
 * which is read from the primary (a write-capable script) at most δ old. A copy the primary has already
 * purged but the lagging replica still holds was filled before the purge's record, so the view refuses
 * it; the position the peek returns may be older than the primary's, which only makes a fill's fence
 * stricter.
 */
import type { Redis } from '@upstash/redis/cloudflare'
import { RedisScript } from './redis-script.ts'

// KEYS: value, hit-for-miss marker, purge-log seq. Returns {code, seq, value?}: 1 value | 2 uncacheable |
// 0 nothing on this replica (ask the primary).
const PEEK_SCRIPT = `
local seq = tonumber(redis.call('GET', KEYS[3]) or '0')
local v = redis.call('GET', KEYS[1])
if v then return {1, seq, v} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {2, seq} end
return {0, seq}`

/** What the replica holds for a key: its value, a hit-for-miss marker, or nothing; with the log position it has. */
export type ReplicaPeek = { seq: number } & ({ kind: 'value'; text: string } | { kind: 'uncacheable' } | { kind: 'absent' })

export class ReplicaReader {
  readonly #client: Redis
  // Per client: the replica's script cache is its own.
  readonly #script = new RedisScript(PEEK_SCRIPT, { readOnly: true })

  /** `client` must not send sync tokens (`readYourWrites: false`), or each peek waits out the replica's lag. */
  constructor(client: Redis) {
    this.#client = client
  }

  async peek(valueKey: string, markerKey: string, seqKey: string): Promise<ReplicaPeek> {
    const result = await this.#script.run<[], [number, number, string?]>(this.#client, [valueKey, markerKey, seqKey], [])
    const seq = Number(result[1])
    if (Number(result[0]) === 1 && typeof result[2] === 'string') return { kind: 'value', seq, text: result[2] }
    if (Number(result[0]) === 2) return { kind: 'uncacheable', seq }
    return { kind: 'absent', seq }
  }
}
