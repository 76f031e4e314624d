/**
 * @module The purge log in Redis: the one place every isolate in every data centre learns about purges.
 *
 * A purge commits in one scripted request: it takes the next sequence number, appends a record to a
 * sorted set scored by it, trims the set to its retention, deletes the URL's and tags' entries through
 * their key indexes, and remembers the purge id for idempotency (design.md §5). Scripts run atomically
 * in Redis, so a purge is either fully recorded or not at all: a failed call leaves nothing a retry
 * cannot finish.
 *
 * Readers fetch the records after the position they know, a bounded page per request, at most once per
 * δ per isolate (src/coherence/coherence.ts). A reader too far behind, or behind records that were
 * trimmed, gets the newest page instead and resynchronises (see {@link LogRead.mode}).
 *
 * Bounds (all in one place, below): the log keeps at most {@link LOG_RETENTION_COUNT} records and
 * {@link LOG_RETENTION_BYTES} bytes of them, none older than {@link LOG_RETENTION_MS}; purge ids live
 * {@link PURGE_ID_TTL_SECONDS}. The sequence number itself is never trimmed.
 */
import type { Redis } from '@upstash/redis/cloudflare'
import type { PurgeRecord } from './purge-record.ts'
import { RedisScript } from '../tiers/redis-script.ts'
import type { RedisHealth } from '../tiers/redis-health.ts'

/** Most records the log keeps; older ones are trimmed at each commit. */
export const LOG_RETENTION_COUNT = 1000
/** Most bytes of record JSON the log keeps (a record holds up to a whole purge body's URLs and tags). */
export const LOG_RETENTION_BYTES = 512 * 1024
/**
 * Longest a record is kept, in ms. Trimmed at each commit; the whole log (not the sequence number)
 * expires when no purge came for this long. Entries filled before the oldest record a reader holds are
 * revalidated, so this is also how long after the last purge older entries are still trusted as they are.
 */
export const LOG_RETENTION_MS = 3_600_000
/**
 * How long a purge id is remembered, in seconds (the replay guard's window, ≥ the signature tolerance).
 * Ids are keys with this expiry: at most one per purge made in the last 15 minutes.
 */
export const PURGE_ID_TTL_SECONDS = 900
/** Most records one read returns (a page). */
export const PAGE_RECORDS = 500
/** Most bytes of record JSON one read returns (at least one record is always returned). */
export const PAGE_BYTES = 256 * 1024
/** A reader further behind than this many positions resynchronises instead of reading every page. */
export const CATCH_UP_LIMIT = LOG_RETENTION_COUNT

/** The log's bounds and page size, all in one place: the constants above, unless a test makes them small. */
export interface PurgeLogLimits {
  /** @default {@link LOG_RETENTION_COUNT} */
  retentionCount: number
  /** @default {@link LOG_RETENTION_BYTES} */
  retentionBytes: number
  /** @default {@link LOG_RETENTION_MS} */
  retentionMs: number
  /** @default {@link PAGE_RECORDS} */
  pageRecords: number
  /** @default {@link PAGE_BYTES} */
  pageBytes: number
  /** @default {@link CATCH_UP_LIMIT} */
  catchUpLimit: number
}

const DEFAULT_LIMITS: PurgeLogLimits = {
  retentionCount: LOG_RETENTION_COUNT,
  retentionBytes: LOG_RETENTION_BYTES,
  retentionMs: LOG_RETENTION_MS,
  pageRecords: PAGE_RECORDS,
  pageBytes: PAGE_BYTES,
  catchUpLimit: CATCH_UP_LIMIT,
}

/** Redis key names under one prefix; shared by the purge log and the fenced fill. */
export const logKeys = (prefix: string) => ({
  seq: `${prefix}plog:seq`,
  log: `${prefix}plog`,
  /** Bytes of record JSON in the log (kept with the log, for the byte bound). */
  bytes: `${prefix}plog:bytes`,
  /** The position the sequence started from (set with it; neither expires). */
  start: `${prefix}plog:start`,
  id: (id: string) => `${prefix}plog:id:${id}`,
  url: (primaryKey: string) => `${prefix}idx:url:${primaryKey}`,
  tag: (tag: string) => `${prefix}idx:tag:${tag}`,
})

// KEYS: seq, log, id, bytes, start. ARGV: record JSON (without seq/t), max records, max bytes, max age ms,
// id ttl s, then index keys to clear.
// Returns {0, receipt} for a repeated id, or {1, seq, t, deleted key...} (at most 1,000 keys listed).
const COMMIT_SCRIPT = `
local prev = redis.call('GET', KEYS[3])
if prev then return {0, prev} end
local time = redis.call('TIME')
local t = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
-- A log that lost its data (flushed, restarted without persistence, its keys evicted) starts again
-- from the Redis time in ms, above any position an isolate or a stored entry can hold: entries filled
-- before are then revalidated and isolates resynchronise, where restarting from 1 would hide purges.
-- The start is kept too: a reader that saw no log at all (position 0) can follow this one from it.
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], t)
  redis.call('SET', KEYS[5], t)
end
local seq = redis.call('INCR', KEYS[1])
-- ARGV[1] is the record's JSON without its opening brace; seq and t are prepended here, so the
-- record is never round-tripped through cjson (which would turn empty arrays into objects).
local record = '{"seq":' .. seq .. ',"t":' .. t .. ',' .. ARGV[1]
-- The byte count lives and expires with the log; it is rebuilt when missing (a log from before it).
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[4], 0)
elseif redis.call('EXISTS', KEYS[4]) == 0 then
  local sum = 0
  for _, r in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do sum = sum + #r end
  redis.call('SET', KEYS[4], sum)
end
redis.call('ZADD', KEYS[2], seq, record)
local bytes = redis.call('INCRBY', KEYS[4], #record)
-- Retention: oldest first, while over the count, over the bytes, or older than the age (the newest
-- record always stays). Records are appended in time order, so the oldest by seq is the oldest by time.
local count = redis.call('ZCARD', KEYS[2])
local maxCount, maxBytes, cutoff = tonumber(ARGV[2]), tonumber(ARGV[3]), t - tonumber(ARGV[4])
while count > 1 do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  local born = tonumber(string.match(oldest, '"t":(%d+)') or '0')
  if count <= maxCount and bytes <= maxBytes and born >= cutoff then break end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, 0)
  bytes = redis.call('INCRBY', KEYS[4], -#oldest)
  count = count - 1
end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[4], ARGV[4])
local out = {1, seq, t}
for i = 6, #ARGV do
  local members = redis.call('SMEMBERS', ARGV[i])
  for _, k in ipairs(members) do
    if redis.call('DEL', k) == 1 and #out < 1003 then table.insert(out, k) end
  end
  redis.call('DEL', ARGV[i])
end
redis.call('SET', KEYS[3], '{"seq":' .. seq .. ',"pending":true}', 'EX', ARGV[5])
return out`

// KEYS: seq, log, start. ARGV: known seq (-1: never read), page records, page bytes, catch-up limit.
// Returns {current, floor, mode, from, record...}, records oldest first. Mode 0 ("follow"): the records
// after \`known\`, a page of them; the reader has all up to \`current\` once the last one is \`current\`.
// Mode 1 ("tail"): the newest page, \`from\` being the position before its first record; sent on a first
// read, and when \`known\` is behind trimmed records, more than the catch-up limit behind, or ahead of
// \`current\` (a log that lost its data).
const READ_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local floor = current + 1
if first[2] then floor = tonumber(first[2]) end
local known = tonumber(ARGV[1])
-- Position 0 means "no log yet": such a reader missed nothing while the log still holds its first record.
local start = tonumber(redis.call('GET', KEYS[3]) or '-1')
if known == 0 and start > 0 and floor == start + 1 then known = start end
local maxRecords, maxBytes = tonumber(ARGV[2]), tonumber(ARGV[3])
local bytes = 0
if known >= 0 and known <= current and floor <= known + 1 and current - known <= tonumber(ARGV[4]) then
  local out = {current, floor, 0, known}
  for _, r in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. known, '+inf', 'LIMIT', 0, maxRecords)) do
    if #out > 4 and bytes + #r > maxBytes then break end
    bytes = bytes + #r
    out[#out + 1] = r
  end
  return out
end
local newest = redis.call('ZREVRANGEBYSCORE', KEYS[2], '+inf', '-inf', 'WITHSCORES', 'LIMIT', 0, maxRecords)
local taken, from = {}, current
for i = 1, #newest, 2 do
  if #taken > 0 and bytes + #newest[i] > maxBytes then break end
  bytes = bytes + #newest[i]
  taken[#taken + 1] = newest[i]
  from = tonumber(newest[i + 1]) - 1
end
-- A first read whose page reaches back to the log's first record holds every record there ever was.
if tonumber(ARGV[1]) < 0 and start > 0 and from == start then from = 0 end
local out = {current, floor, 1, from}
for i = #taken, 1, -1 do out[#out + 1] = taken[i] end
return out`

/** What a purge asks for, in key form. */
export interface PurgeScope {
  urls: string[]
  tags: string[]
  prefixes: string[]
  all: boolean
  soft: boolean
}

/** Outcome of {@link PurgeLog.commit}. */
export type CommitResult =
  | { duplicate: true; previous: string }
  | { duplicate: false; seq: number; t: number; deletedKeys: string[] }

/** How a read relates to the reader's position. */
export const ReadMode = {
  /** The records after the reader's position (complete once the last one is `current`). */
  Follow: 'follow',
  /** The newest records only: the reader must drop what it cannot judge (first read, or resynchronising). */
  Tail: 'tail',
} as const
export type ReadMode = (typeof ReadMode)[keyof typeof ReadMode]

/** One read of the log. */
export interface LogRead {
  /** The log's head: the last sequence number handed out. */
  current: number
  /** Lowest seq still retained (current + 1 when the log is empty). */
  floor: number
  mode: ReadMode
  /** The position the records follow: the reader's own (follow), or the one before the page (tail). */
  from: number
  records: PurgeRecord[]
  /** Bytes of record JSON read. */
  bytes: number
  /** The highest position the page covers (`from` when it is empty). */
  last: number
  /** Whether the reader now has every record up to `current`. */
  complete: boolean
}

export class PurgeLog {
  readonly #client: Redis
  readonly #keys: ReturnType<typeof logKeys>
  readonly #prefix: string
  readonly #health: RedisHealth
  readonly #limits: PurgeLogLimits
  // The read stays a plain (write-capable) EVAL although it only reads: on Upstash Global that is what runs
  // it on the primary. As EVAL_RO a lagging replica could serve it, and δ would become δ + replica lag
  // (test/worker/global.test.ts fails that way: 2.85 s after a purge with δ = 1 s and a 3 s lag).
  readonly #scripts = { commit: new RedisScript(COMMIT_SCRIPT), read: new RedisScript(READ_SCRIPT) }

  constructor(client: Redis, prefix: string, health: RedisHealth, limits: Partial<PurgeLogLimits> = {}) {
    this.#client = client
    this.#prefix = prefix
    this.#keys = logKeys(prefix)
    this.#health = health
    this.#limits = { ...DEFAULT_LIMITS, ...limits }
  }

  /**
   * Whether a read may go out now: `yes` (breaker closed), `trial` (this read is the half-open trial:
   * Redis was failing) or `no` (breaker open: do not wait for Redis).
   */
  mayRead(): 'yes' | 'trial' | 'no' {
    const state = this.#health.breakerState()
    if (!this.#health.allow()) return 'no'
    return state === 'closed' ? 'yes' : 'trial'
  }

  /**
   * Records a purge and deletes the entries its URLs and tags index. Idempotent per `id`. Not held back
   * by an open breaker (a purge is rare and its sender is waiting), but its outcome counts.
   */
  async commit(scope: PurgeScope, id: string): Promise<CommitResult> {
    const record = { urls: scope.urls, tags: scope.tags, prefixes: scope.prefixes, all: scope.all, soft: scope.soft }
    // A soft purge keeps entries (they turn stale through the log); a hard one deletes what is indexed.
    const indexes = scope.soft ? [] : [...scope.urls.map(this.#keys.url), ...scope.tags.map(this.#keys.tag)]
    const result = await this.#health.call('purge commit', () =>
      this.#scripts.commit.run<string[], Array<string | number>>(
        this.#client,
        [this.#keys.seq, this.#keys.log, this.#keys.id(id), this.#keys.bytes, this.#keys.start],
        [
          JSON.stringify(record).slice(1),
          String(this.#limits.retentionCount),
          String(this.#limits.retentionBytes),
          String(this.#limits.retentionMs),
          String(PURGE_ID_TTL_SECONDS),
          ...indexes,
        ]
      )
    )
    if (Number(result[0]) === 0) return { duplicate: true, previous: String(result[1]) }
    const deletedKeys = result.slice(3).map((k) => String(k).slice(this.#prefix.length))
    return { duplicate: false, seq: Number(result[1]), t: Number(result[2]), deletedKeys }
  }

  /** Stores the finished receipt under the purge id, so a repeated id gets it back. */
  async saveReceipt(id: string, receipt: unknown): Promise<void> {
    await this.#health.call('purge receipt', () =>
      this.#client.set(this.#keys.id(id), JSON.stringify(receipt), { ex: PURGE_ID_TTL_SECONDS })
    )
  }

  /**
   * Reads one page: the records after `knownSeq`, or the newest ones (first read with −1, or when
   * `knownSeq` cannot be followed). One Upstash request.
   */
  async read(knownSeq: number): Promise<LogRead> {
    const result = await this.#health.call('purge log read', () =>
      this.#scripts.read.run<string[], Array<string | number>>(
        this.#client,
        [this.#keys.seq, this.#keys.log, this.#keys.start],
        [String(knownSeq), String(this.#limits.pageRecords), String(this.#limits.pageBytes), String(this.#limits.catchUpLimit)]
      )
    )
    return parseRead(result)
  }
}

/** Turns the read script's reply into a {@link LogRead}. Exported for tests. */
export function parseRead(result: ReadonlyArray<string | number>): LogRead {
  const current = Number(result[0])
  const mode = Number(result[2]) === 1 ? ReadMode.Tail : ReadMode.Follow
  const from = Number(result[3])
  const records: PurgeRecord[] = []
  let bytes = 0
  let last = from
  for (const raw of result.slice(4)) {
    const text = String(raw)
    bytes += text.length
    try {
      const record = JSON.parse(text) as PurgeRecord
      records.push(record)
      last = Math.max(last, Number(record.seq))
    } catch {
      // A record we cannot read is skipped; only its own purge is lost, and only for this reader.
      last = Math.max(last, Number(/"seq":(\d+)/.exec(text)?.[1] ?? last))
    }
  }
  return { current, floor: Number(result[1]), mode, from, records, bytes, last, complete: last >= current }
}
