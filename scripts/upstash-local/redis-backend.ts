/**
 * @module
 * Everything the server needs from Redis: one connection pool per token kind, the read-only ACL user
 * behind the read-only token, Redis's own command table, and the batch and transaction runners.
 *
 * @see reference `upstash-and-workers.md` §6.1–§6.3 and §6.7
 */
import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { RedisConnection, RedisHandshakeError } from './redis-connection.ts'
import { RedisPool } from './redis-pool.ts'
import type { Command } from './commands.ts'
import type { ResolvedOptions } from './options.ts'
import type { RespReply } from './resp.ts'

/** Which token authenticated the request. */
export type Role = 'standard' | 'readOnly'

/** What Redis says about each command it knows, by lower-case name. */
export type CommandTable = ReadonlyMap<string, { readonly readonly: boolean }>

/** Result of `/multi-exec`: the EXEC items, or why the whole transaction was discarded (§1.9). */
export type TransactionOutcome =
  | { readonly applied: true; readonly replies: readonly RespReply[] }
  | { readonly applied: false; readonly error: string }

/**
 * Owns the Redis side of the server. Nothing connects until first use, so the server starts even when
 * Redis is down and recovers when it comes back (§3.1: SRH connects lazily for the same reason).
 */
export class RedisBackend {
  readonly #options: ResolvedOptions
  readonly #standard: RedisPool
  readonly #readOnly: RedisPool | undefined
  readonly #readOnlyUser: { name: string; password: string } | undefined
  #readOnlyUserReady: Promise<void> | undefined
  #table: Promise<CommandTable> | undefined

  constructor(options: ResolvedOptions) {
    this.#options = options
    const { redis, maxConnections } = options
    this.#standard = new RedisPool(() => this.#open(redis.username, redis.password), maxConnections)
    if (options.readOnlyToken !== undefined) {
      // Named and keyed after the token's hash: servers sharing one redis-server and one read-only
      // token converge on the same user instead of overwriting each other's password.
      const digest = createHash('sha256').update(`upstash-local:${options.readOnlyToken}`).digest('hex')
      this.#readOnlyUser = { name: `upstash_local_ro_${digest.slice(0, 12)}`, password: digest }
      this.#readOnly = new RedisPool(() => this.#openReadOnly(), maxConnections)
    }
  }

  /** Runs commands on one connection, written back to back, and returns replies in order (§1.9). */
  run(role: Role, commands: readonly Command[]): Promise<RespReply[]> {
    return this.#pool(role).use((connection) => connection.sendBatch(commands))
  }

  /**
   * Runs `MULTI`, the commands and `EXEC` on a connection held exclusively for the whole exchange
   * (SRH #25). A queue-time error (e.g. wrong arity, `NOPERM`) discards everything, as Redis does.
   */
  async transaction(role: Role, commands: readonly Command[]): Promise<TransactionOutcome> {
    const replies = await this.#pool(role).use((c) => c.sendBatch([['MULTI'], ...commands, ['EXEC']]))
    const queued = replies.slice(0, -1)
    const exec = replies.at(-1)
    const refused = queued.find((reply) => reply.kind === 'error')
    // Report the cause (e.g. the arity error) rather than the generic EXECABORT that follows it.
    if (refused?.kind === 'error') return { applied: false, error: refused.message }
    if (exec?.kind === 'error') return { applied: false, error: exec.message }
    if (exec?.kind !== 'array') return { applied: false, error: 'EXECABORT Transaction discarded' }
    return { applied: true, replies: exec.items }
  }

  /** Redis's command table (`COMMAND`), loaded once; a failed load is retried on the next call. */
  commandTable(): Promise<CommandTable> {
    if (this.#table === undefined) {
      const loading = this.run('standard', [['COMMAND']]).then(([reply]) => parseCommandTable(reply))
      loading.catch(() => {
        if (this.#table === loading) this.#table = undefined
      })
      this.#table = loading
    }
    return this.#table
  }

  /** Creates the read-only ACL user now if possible; failures are retried lazily. */
  async warmUp(): Promise<void> {
    if (this.#readOnlyUser !== undefined) await this.#ensureReadOnlyUser()
  }

  /** Closes every connection. */
  close(): void {
    this.#standard.close()
    this.#readOnly?.close()
  }

  #pool(role: Role): RedisPool {
    if (role === 'standard') return this.#standard
    if (this.#readOnly === undefined) throw new Error('no read-only token configured')
    return this.#readOnly
  }

  #open(username: string | undefined, password: string | undefined): Promise<RedisConnection> {
    const { host, port, db } = this.#options.redis
    return RedisConnection.open({ host, port, db, username, password, connectTimeoutMs: this.#options.connectTimeoutMs })
  }

  async #openReadOnly(): Promise<RedisConnection> {
    const user = this.#readOnlyUser as { name: string; password: string }
    await this.#ensureReadOnlyUser()
    try {
      return await this.#open(user.name, user.password)
    } catch (error) {
      if (!(error instanceof RedisHandshakeError)) throw error
      // Redis restarted and forgot the user: recreate it once.
      this.#readOnlyUserReady = undefined
      await this.#ensureReadOnlyUser()
      return this.#open(user.name, user.password)
    }
  }

  /**
   * `+@read -@dangerous` is Upstash's read-only token: reads only, and `KEYS` refused (it is
   * `@dangerous`); `SCAN` is refused explicitly (§1.2). Redis then produces the exact `NOPERM` text (§7 A6).
   */
  #ensureReadOnlyUser(): Promise<void> {
    const user = this.#readOnlyUser as { name: string; password: string }
    if (this.#readOnlyUserReady === undefined) {
      // MULTI/EXEC are allowed so /multi-exec works with the read-only token; SELECT for the handshake
      // (clients cannot send it: it is refused at the HTTP layer).
      const rules = ['~*', '&*', '+@read', '-@dangerous', '-scan', '+ping', '+echo', '+select', '+multi', '+exec']
      const creating = this.run('standard', [['ACL', 'SETUSER', user.name, 'reset', 'on', `>${user.password}`, ...rules]]).then(
        ([reply]) => {
          if (reply?.kind === 'error') throw new RedisHandshakeError(`cannot create the read-only ACL user: ${reply.message}`)
        },
      )
      creating.catch(() => {
        if (this.#readOnlyUserReady === creating) this.#readOnlyUserReady = undefined
      })
      this.#readOnlyUserReady = creating
    }
    return this.#readOnlyUserReady
  }
}

function parseCommandTable(reply: RespReply | undefined): CommandTable {
  const table = new Map<string, { readonly: boolean }>()
  if (reply?.kind !== 'array') return table
  for (const entry of reply.items) {
    if (entry.kind !== 'array') continue
    const [name, , flags] = entry.items
    if (name?.kind !== 'bulk') continue
    const readonly = flags?.kind === 'array' && flags.items.some((f) => f.kind === 'status' && f.value === 'readonly')
    table.set(Buffer.from(name.bytes).toString('utf8').toLowerCase(), { readonly })
  }
  return table
}
