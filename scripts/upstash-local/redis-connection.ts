/**
 * @module
 * One TCP connection to `redis-server`, speaking RESP2 (reference `upstash-and-workers.md` §6.1).
 *
 * Commands are written back to back (Redis pipelining) and replies are matched to them first in,
 * first out, which is how Redis guarantees ordering on one connection. Any socket error or protocol
 * error fails every pending command and marks the connection broken, so the pool drops it and the
 * HTTP layer can answer a prompt 500 instead of hanging (§6.9, SRH issues #5 and #12).
 */
import { Buffer } from 'node:buffer'
import net from 'node:net'
import { RespParser, encodeCommand } from './resp.ts'
import type { RespArg, RespReply } from './resp.ts'

/** Where and how to connect. */
export type RedisConnectionOptions = {
  readonly host: string
  readonly port: number
  /** Database index sent with `SELECT` right after connecting. @default 0 */
  readonly db?: number
  /** ACL user for `AUTH`; omitted means the `default` user. */
  readonly username?: string
  /** Password for `AUTH`; omitted means no `AUTH`. */
  readonly password?: string
  /** Give up connecting after this long, so a dead Redis gives a prompt error. @default 1000 */
  readonly connectTimeoutMs?: number
}

/** Redis could not be reached or the connection died; the HTTP layer maps it to 500. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError'
}

/** The handshake (`AUTH`/`SELECT`) was refused by Redis, e.g. a wrong password. */
export class RedisHandshakeError extends Error {
  override readonly name = 'RedisHandshakeError'
}

type Pending = { resolve: (reply: RespReply) => void; reject: (error: Error) => void }

/** A connected, handshaken Redis connection. Create it with {@link RedisConnection.open}. */
export class RedisConnection {
  readonly #socket: net.Socket
  readonly #parser = new RespParser()
  readonly #pending: Pending[] = []
  #failure: Error | undefined

  private constructor(socket: net.Socket) {
    this.#socket = socket
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (error) => this.#fail(new RedisUnavailableError(`Redis connection error: ${error.message}`)))
    socket.on('close', () => this.#fail(new RedisUnavailableError('Redis connection closed')))
  }

  /** Connects, then runs `AUTH` and `SELECT` as configured. Rejects with {@link RedisUnavailableError} or {@link RedisHandshakeError}. */
  static async open(options: RedisConnectionOptions): Promise<RedisConnection> {
    const socket = await connectSocket(options.host, options.port, options.connectTimeoutMs ?? 1000)
    const connection = new RedisConnection(socket)
    const handshake: RespArg[][] = []
    if (options.password !== undefined) {
      handshake.push(options.username === undefined ? ['AUTH', options.password] : ['AUTH', options.username, options.password])
    }
    if (options.db !== undefined && options.db !== 0) handshake.push(['SELECT', String(options.db)])
    try {
      for (const reply of await connection.sendBatch(handshake)) {
        if (reply.kind === 'error') throw new RedisHandshakeError(reply.message)
      }
    } catch (error) {
      connection.close()
      throw error
    }
    return connection
  }

  /** True once the socket failed or was closed; such a connection must not be reused. */
  get broken(): boolean {
    return this.#failure !== undefined
  }

  /** Sends one command and resolves with its reply (which may be a Redis error reply). */
  async send(args: readonly RespArg[]): Promise<RespReply> {
    const [reply] = await this.sendBatch([args])
    return reply as RespReply
  }

  /**
   * Writes all commands in one go and resolves with their replies in the same order. Redis runs them
   * in order on this connection, so later commands see earlier writes (§1.9 pipeline semantics).
   */
  sendBatch(commands: readonly (readonly RespArg[])[]): Promise<RespReply[]> {
    if (commands.length === 0) return Promise.resolve([])
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    const replies = commands.map(
      () => new Promise<RespReply>((resolve, reject) => this.#pending.push({ resolve, reject })),
    )
    this.#socket.write(Buffer.concat(commands.map(encodeCommand)))
    return Promise.all(replies)
  }

  /** Closes the socket; pending commands fail. */
  close(): void {
    this.#fail(new RedisUnavailableError('Redis connection closed by upstash-local'))
  }

  #onData(chunk: Buffer): void {
    let replies: RespReply[]
    try {
      replies = this.#parser.push(chunk)
    } catch (error) {
      this.#fail(new RedisUnavailableError(`Redis protocol error: ${(error as Error).message}`))
      return
    }
    for (const reply of replies) {
      const waiter = this.#pending.shift()
      if (waiter === undefined) {
        this.#fail(new RedisUnavailableError('Redis sent a reply nobody asked for'))
        return
      }
      waiter.resolve(reply)
    }
  }

  #fail(error: Error): void {
    if (this.#failure === undefined) this.#failure = error
    for (const waiter of this.#pending.splice(0)) waiter.reject(this.#failure)
    if (!this.#socket.destroyed) this.#socket.destroy()
  }
}

function connectSocket(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port })
    const where = `${host}:${port}`
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new RedisUnavailableError(`cannot connect to Redis at ${where}: timed out after ${timeoutMs} ms`))
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.removeAllListeners('error')
      socket.setNoDelay(true)
      socket.setKeepAlive(true, 10_000)
      resolve(socket)
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      socket.destroy()
      reject(new RedisUnavailableError(`cannot connect to Redis at ${where}: ${error.message}`))
    })
  })
}
