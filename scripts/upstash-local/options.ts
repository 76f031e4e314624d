/**
 * @module
 * Options of the local Upstash-compatible server, declared once, documented per field and resolved
 * and validated once at start-up. A typo must fail loudly before the first request, not crash later
 * (the lesson of SRH issue #34, reference `upstash-and-workers.md` §3.3).
 */

/** Options for {@link import('./server.ts').startUpstashLocal}. */
export type UpstashLocalOptions = {
  /** Standard token: may run every supported command (§1.2). Required. */
  readonly token: string
  /** Read-only token, backed by a Redis ACL user that may run `@read` commands only (§1.2, §6.7). @default none */
  readonly readOnlyToken?: string
  /** TCP port to listen on; `0` picks a free port (see `UpstashLocal.port`). @default 0 */
  readonly port?: number
  /** Interface to listen on. @default '127.0.0.1' */
  readonly host?: string
  /**
   * Path prefix the REST URL carries, e.g. `/upstash` for `UPSTASH_REDIS_REST_URL=http://127.0.0.1:8079/upstash`
   * (§7 S23). Without it, a path like `/upstash` would be read as the path form of a command.
   * @default ''
   */
  readonly basePath?: string
  /** `redis://[[user]:password@]host[:port][/db]`; overrides `redisHost`, `redisPort` and (unless given) `db`. */
  readonly redisUrl?: string
  /** @default '127.0.0.1' */
  readonly redisHost?: string
  /** @default 6379 */
  readonly redisPort?: number
  /** Redis database index, selected on every connection. @default 0 */
  readonly db?: number
  /** Larger request bodies get 400 `ERR max request size exceeded` (§1.11). @default 10 MiB */
  readonly maxBodyBytes?: number
  /** Connections per pool (one pool per token kind). @default 16 */
  readonly maxConnections?: number
  /** How long to wait for Redis before answering 500 (§7 H9). @default 1000 */
  readonly connectTimeoutMs?: number
  /**
   * Global mode (Upstash Global, see `replication.ts`): the read replica of `redis*`, which then plays the
   * primary. Read-only requests are served by the replica, the rest by the primary; sync tokens are
   * replication offsets. @default none (single region: every request goes to `redis*`)
   */
  readonly replica?: { readonly host: string; readonly port: number }
  /** Global mode: added latency of every request the primary serves (a far primary region), ms. @default 0 */
  readonly primaryLatencyMs?: number
  /** Global mode: added latency of every request the replica serves (the nearby read region), ms. @default 0 */
  readonly replicaLatencyMs?: number
  /** Global mode: how long a replica read with a sync token waits for the replica before the primary serves it. @default 5000 */
  readonly syncWaitMs?: number
}

/** Options with every default applied. */
export type ResolvedOptions = {
  readonly token: string
  readonly readOnlyToken: string | undefined
  readonly port: number
  readonly host: string
  readonly basePath: string
  readonly redis: {
    readonly host: string
    readonly port: number
    readonly db: number
    readonly username: string | undefined
    readonly password: string | undefined
  }
  readonly maxBodyBytes: number
  readonly maxConnections: number
  readonly connectTimeoutMs: number
  readonly replica: { readonly host: string; readonly port: number } | undefined
  readonly primaryLatencyMs: number
  readonly replicaLatencyMs: number
  readonly syncWaitMs: number
}

/** A configuration mistake, reported at start-up with the offending option named. */
export class UpstashLocalConfigError extends Error {
  override readonly name = 'UpstashLocalConfigError'
}

/** Applies defaults and validates; throws {@link UpstashLocalConfigError}. */
export function resolveOptions(options: UpstashLocalOptions): ResolvedOptions {
  const token = nonEmpty('token', options.token)
  const readOnlyToken = options.readOnlyToken === undefined ? undefined : nonEmpty('readOnlyToken', options.readOnlyToken)
  if (readOnlyToken === token) throw new UpstashLocalConfigError('readOnlyToken must differ from token')
  const fromUrl = options.redisUrl === undefined ? undefined : parseRedisUrl(options.redisUrl)
  const basePath = (options.basePath ?? '').replace(/\/+$/, '')
  if (basePath !== '' && !basePath.startsWith('/')) {
    throw new UpstashLocalConfigError(`basePath must start with "/", got ${JSON.stringify(options.basePath)}`)
  }
  return {
    token,
    readOnlyToken,
    port: integer('port', options.port ?? 0, 0, 65_535),
    host: nonEmpty('host', options.host ?? '127.0.0.1'),
    basePath,
    redis: {
      host: fromUrl?.host ?? nonEmpty('redisHost', options.redisHost ?? '127.0.0.1'),
      port: fromUrl?.port ?? integer('redisPort', options.redisPort ?? 6379, 1, 65_535),
      db: integer('db', options.db ?? fromUrl?.db ?? 0, 0, 1_000_000),
      username: fromUrl?.username,
      password: fromUrl?.password,
    },
    maxBodyBytes: integer('maxBodyBytes', options.maxBodyBytes ?? 10 * 1024 * 1024, 1, Number.MAX_SAFE_INTEGER),
    maxConnections: integer('maxConnections', options.maxConnections ?? 16, 1, 10_000),
    connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs ?? 1000, 1, 600_000),
    replica:
      options.replica === undefined
        ? undefined
        : { host: nonEmpty('replica.host', options.replica.host), port: integer('replica.port', options.replica.port, 1, 65_535) },
    primaryLatencyMs: integer('primaryLatencyMs', options.primaryLatencyMs ?? 0, 0, 600_000),
    replicaLatencyMs: integer('replicaLatencyMs', options.replicaLatencyMs ?? 0, 0, 600_000),
    syncWaitMs: integer('syncWaitMs', options.syncWaitMs ?? 5000, 0, 600_000),
  }
}

/** Parses `redis://[[user]:password@]host[:port][/db]` (TLS `rediss://` is not supported locally). */
export function parseRedisUrl(text: string): {
  host: string
  port: number
  db: number | undefined
  username: string | undefined
  password: string | undefined
} {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UpstashLocalConfigError(`redisUrl is not a URL: ${JSON.stringify(text)}`)
  }
  if (url.protocol !== 'redis:') throw new UpstashLocalConfigError(`redisUrl must use redis://, got ${url.protocol}//`)
  const dbText = url.pathname.replace(/^\//, '')
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: url.port === '' ? 6379 : integer('redisUrl port', Number(url.port), 1, 65_535),
    db: dbText === '' ? undefined : integer('redisUrl database', Number(dbText), 0, 1_000_000),
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
  }
}

function nonEmpty(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new UpstashLocalConfigError(`${name} must be a non-empty string, got ${JSON.stringify(value)}`)
  }
  return value
}

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new UpstashLocalConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return value
}
