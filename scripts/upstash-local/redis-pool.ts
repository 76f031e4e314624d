/**
 * @module
 * A small pool of Redis connections, lent out **exclusively**: one HTTP request holds a connection
 * from its first command to its last reply.
 *
 * Why exclusive: SRH issue #25 (reference `upstash-and-workers.md` §3.3) came from handing a connection
 * that another request had borrowed for `MULTI` to an ordinary command, giving
 * `ERR MULTI calls can not be nested`. Lending whole connections makes that impossible, keeps each
 * request's commands in order (§6.2), and costs little because requests are short.
 */
import type { RedisConnection } from './redis-connection.ts'

/** Creates a ready (connected and handshaken) connection. */
export type ConnectionFactory = () => Promise<RedisConnection>

type Waiter = { resolve: (connection: RedisConnection) => void; reject: (error: Error) => void }

/** Thrown to requests still waiting for a connection when the pool closes. */
export class PoolClosedError extends Error {
  override readonly name = 'PoolClosedError'
}

/**
 * Lends connections made by `factory`, at most `maxConnections` at a time; further requests queue
 * in arrival order. Broken connections are dropped, so the pool recovers by itself once Redis is back.
 */
export class RedisPool {
  readonly #factory: ConnectionFactory
  readonly #max: number
  readonly #idle: RedisConnection[] = []
  readonly #busy = new Set<RedisConnection>()
  readonly #waiters: Waiter[] = []
  /** Idle + busy + being created. */
  #size = 0
  #closed = false

  constructor(factory: ConnectionFactory, maxConnections: number) {
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new RangeError(`maxConnections must be a positive integer, got ${maxConnections}`)
    }
    this.#factory = factory
    this.#max = maxConnections
  }

  /**
   * Runs `task` with a connection that nobody else can use until `task` settles.
   * @example await pool.use((c) => c.sendBatch([['MULTI'], ['SET', 'k', 'v'], ['EXEC']]))
   */
  async use<T>(task: (connection: RedisConnection) => Promise<T>): Promise<T> {
    const connection = await this.#acquire()
    try {
      return await task(connection)
    } finally {
      this.#release(connection)
    }
  }

  /** Closes idle and busy connections and fails queued requests. Idempotent. */
  close(): void {
    this.#closed = true
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new PoolClosedError('upstash-local is shutting down'))
    for (const connection of [...this.#idle.splice(0), ...this.#busy]) connection.close()
  }

  async #acquire(): Promise<RedisConnection> {
    if (this.#closed) throw new PoolClosedError('upstash-local is shutting down')
    for (let connection = this.#idle.pop(); connection !== undefined; connection = this.#idle.pop()) {
      if (!connection.broken) return this.#lend(connection)
      this.#size -= 1
    }
    if (this.#size >= this.#max) {
      return new Promise<RedisConnection>((resolve, reject) => this.#waiters.push({ resolve, reject }))
    }
    this.#size += 1
    let connection: RedisConnection
    try {
      connection = await this.#factory()
    } catch (error) {
      this.#size -= 1
      this.#wakeOne()
      throw error
    }
    if (this.#closed) {
      connection.close()
      throw new PoolClosedError('upstash-local is shutting down')
    }
    return this.#lend(connection)
  }

  #lend(connection: RedisConnection): RedisConnection {
    this.#busy.add(connection)
    return connection
  }

  #release(connection: RedisConnection): void {
    this.#busy.delete(connection)
    if (this.#closed || connection.broken) {
      connection.close()
      this.#size -= 1
      this.#wakeOne()
      return
    }
    const waiter = this.#waiters.shift()
    if (waiter === undefined) this.#idle.push(connection)
    else waiter.resolve(this.#lend(connection))
  }

  /** A slot was freed without a connection to hand over: let the oldest waiter open a new one. */
  #wakeOne(): void {
    const waiter = this.#waiters.shift()
    if (waiter !== undefined) this.#acquire().then(waiter.resolve, waiter.reject)
  }
}
