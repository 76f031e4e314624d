/**
 * @module The purge log in Redis: the one place every isolate in every data centre learns about purges.
 *
 * A purge commits in one scripted request: it takes the next sequence number, appends a record to a
 * sorted set (trimmed to a retention count), deletes the URL's and tags' entries through their key
 * indexes, and remembers the purge id for idempotency (design.md §5). Readers fetch the records after
 * the position they know, at most once per δ per isolate. Scripts run atomically in Redis, so a purge
 * is either fully recorded or not at all: a failed call leaves nothing a retry cannot finish.
 */
import type { Redis } from '@upstash/redis/cloudflare'
import { TierError } from '../errors.ts'
import type { PurgeRecord } from './purge-record.ts'
import { RedisScript } from '../tiers/redis-script.ts'

/** Records kept in Redis; isolates that fall further behind flush their memory tier. */
export const LOG_RETENTION = 5000
/** How long a purge id is remembered (replay guard window ≥ the signature tolerance). */
export const PURGE_ID_TTL_SECONDS = 900

/** Redis key names under one prefix; shared by the purge log and the fenced fill. */
export const logKeys = (prefix: string) => ({
  seq: `${prefix}plog:seq`,
  log: `${prefix}plog`,
  id: (id: string) => `${prefix}plog:id:${id}`,
  url: (primaryKey: string) => `${prefix}idx:url:${primaryKey}`,
  tag: (tag: string) => `${prefix}idx:tag:${tag}`,
})

// KEYS: seq, log, id. ARGV: record JSON (without seq/t), retention, id ttl s, then index keys to clear.
// Returns {0, receipt} for a repeated id, or {1, seq, t, deleted key...} (at most 1,000 keys listed).
const COMMIT_SCRIPT = `
local prev = redis.call('GET', KEYS[3])
if prev then return {0, prev} end
local seq = redis.call('INCR', KEYS[1])
local time = redis.call('TIME')
local t = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
-- ARGV[1] is the record's JSON without its opening brace; seq and t are prepended here, so the
-- record is never round-tripped through cjson (which would turn empty arrays into objects).
redis.call('ZADD', KEYS[2], seq, '{"seq":' .. seq .. ',"t":' .. t .. ',' .. ARGV[1])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[2])
if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1) end
local out = {1, seq, t}
for i = 4, #ARGV do
  local members = redis.call('SMEMBERS', ARGV[i])
  for _, k in ipairs(members) do
    if redis.call('DEL', k) == 1 and #out < 1003 then table.insert(out, k) end
  end
  redis.call('DEL', ARGV[i])
end
redis.call('SET', KEYS[3], '{"seq":' .. seq .. ',"pending":true}', 'EX', ARGV[3])
return out`

// KEYS: seq, log. ARGV: known seq (-1: never read), max records, initial window.
// Returns {currentSeq, floorSeq, from, record...}: the records after \`from\`, oldest first.
const READ_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local floor = current + 1
if first[2] then floor = tonumber(first[2]) end
local from = tonumber(ARGV[1])
if from < 0 then from = math.max(0, current - tonumber(ARGV[3])) end
local out = {current, floor, from}
local records = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. from, '+inf', 'LIMIT', 0, tonumber(ARGV[2]))
for _, r in ipairs(records) do table.insert(out, r) end
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

/** A read of the log tail. */
export interface LogRead {
  current: number
  /** Lowest seq still retained (current + 1 when the log is empty). */
  floor: number
  /** The position the records follow (the caller's, or the start of the initial window). */
  from: number
  records: PurgeRecord[]
}

export class PurgeLog {
  readonly #client: Redis
  readonly #keys: ReturnType<typeof logKeys>
  readonly #prefix: string
  readonly #scripts = { commit: new RedisScript(COMMIT_SCRIPT), read: new RedisScript(READ_SCRIPT) }

  constructor(client: Redis, prefix: string) {
    this.#client = client
    this.#prefix = prefix
    this.#keys = logKeys(prefix)
  }

  /** Records a purge and deletes the entries its URLs and tags index. Idempotent per `id`. */
  async commit(scope: PurgeScope, id: string): Promise<CommitResult> {
    const record = { urls: scope.urls, tags: scope.tags, prefixes: scope.prefixes, all: scope.all, soft: scope.soft }
    // A soft purge keeps entries (they turn stale through the log); a hard one deletes what is indexed.
    const indexes = scope.soft ? [] : [...scope.urls.map(this.#keys.url), ...scope.tags.map(this.#keys.tag)]
    const result = await this.#call('purge commit', () =>
      this.#scripts.commit.run<string[], Array<string | number>>(
        this.#client,
        [this.#keys.seq, this.#keys.log, this.#keys.id(id)],
        [JSON.stringify(record).slice(1), String(LOG_RETENTION), String(PURGE_ID_TTL_SECONDS), ...indexes]
      )
    )
    if (Number(result[0]) === 0) return { duplicate: true, previous: String(result[1]) }
    const deletedKeys = result.slice(3).map((k) => String(k).slice(this.#prefix.length))
    return { duplicate: false, seq: Number(result[1]), t: Number(result[2]), deletedKeys }
  }

  /** Stores the finished receipt under the purge id, so a repeated id gets it back. */
  async saveReceipt(id: string, receipt: unknown): Promise<void> {
    await this.#call('purge receipt', () =>
      this.#client.set(this.#keys.id(id), JSON.stringify(receipt), { ex: PURGE_ID_TTL_SECONDS })
    )
  }

  /** Reads up to `max` records after `knownSeq` (or the last `initialWindow` on a first read, knownSeq −1). */
  async read(knownSeq: number, max: number, initialWindow: number): Promise<LogRead> {
    const result = await this.#call('purge log read', () =>
      this.#scripts.read.run<string[], Array<string | number>>(
        this.#client,
        [this.#keys.seq, this.#keys.log],
        [String(knownSeq), String(max), String(initialWindow)]
      )
    )
    const records: PurgeRecord[] = []
    for (const raw of result.slice(3)) {
      try {
        records.push(JSON.parse(String(raw)) as PurgeRecord)
      } catch {
        // A record we cannot read is skipped; the gap check below still flushes if needed.
      }
    }
    return { current: Number(result[0]), floor: Number(result[1]), from: Number(result[2]), records }
  }

  async #call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation()
    } catch (cause) {
      throw new TierError('redis', `${what} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause })
    }
  }
}
