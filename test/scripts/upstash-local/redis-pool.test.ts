/** The connection pool and the connection, against the shared redis-server (never flushed). */
import { describe, expect, it } from 'vitest'
import { RedisConnection, RedisUnavailableError } from '../../../scripts/upstash-local/redis-connection.ts'
import { PoolClosedError, RedisPool } from '../../../scripts/upstash-local/redis-pool.ts'
import { freePort, uniquePrefix } from './helpers.ts'

const open = () => RedisConnection.open({ host: '127.0.0.1', port: 6379 })

describe('RedisConnection', () => {
  it('matches pipelined replies to commands in order', async () => {
    const connection = await open()
    const key = `${uniquePrefix()}n`
    try {
      const replies = await connection.sendBatch([['INCR', key], ['INCR', key], ['GET', key], ['DEL', key]])
      expect(replies).toEqual([
        { kind: 'integer', digits: '1' },
        { kind: 'integer', digits: '2' },
        { kind: 'bulk', bytes: new Uint8Array(Buffer.from('2')) },
        { kind: 'integer', digits: '1' },
      ])
    } finally {
      connection.close()
    }
  })

  it('fails pending and later commands once closed, and reports itself broken', async () => {
    const connection = await open()
    const pending = connection.send(['BLPOP', `${uniquePrefix()}never`, '5'])
    connection.close()
    await expect(pending).rejects.toBeInstanceOf(RedisUnavailableError)
    expect(connection.broken).toBe(true)
    await expect(connection.send(['PING'])).rejects.toBeInstanceOf(RedisUnavailableError)
  })

  it('rejects promptly with RedisUnavailableError when nothing listens', async () => {
    const port = await freePort()
    await expect(RedisConnection.open({ host: '127.0.0.1', port })).rejects.toThrow(/cannot connect to Redis at 127\.0\.0\.1:\d+/)
  })
})

describe('RedisPool', () => {
  it('never lends more than maxConnections at once and serves every queued task', async () => {
    const pool = new RedisPool(open, 2)
    let active = 0
    let peak = 0
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        pool.use(async (connection) => {
          active += 1
          peak = Math.max(peak, active)
          const reply = await connection.send(['ECHO', String(i)])
          active -= 1
          return reply
        }),
      ),
    )
    pool.close()
    expect(peak).toBe(2)
    expect(results.map((r) => (r.kind === 'bulk' ? Buffer.from(r.bytes).toString() : r.kind))).toEqual(
      Array.from({ length: 10 }, (_, i) => String(i)),
    )
  })

  it('lends a connection to one task at a time, so a transaction cannot be joined by another request', async () => {
    const pool = new RedisPool(open, 1)
    const seen: string[] = []
    await Promise.all([
      pool.use(async (c) => {
        seen.push('a:start')
        await c.sendBatch([['MULTI'], ['PING'], ['EXEC']])
        seen.push('a:end')
      }),
      pool.use(async (c) => {
        seen.push('b:start')
        await c.send(['PING'])
        seen.push('b:end')
      }),
    ])
    pool.close()
    expect(seen).toEqual(['a:start', 'a:end', 'b:start', 'b:end'])
  })

  it('replaces a connection that broke instead of lending it again', async () => {
    const pool = new RedisPool(open, 1)
    let first: RedisConnection | undefined
    await pool.use(async (c) => {
      first = c
      c.close()
    })
    const reply = await pool.use(async (c) => {
      expect(c).not.toBe(first)
      return c.send(['PING'])
    })
    pool.close()
    expect(reply).toEqual({ kind: 'status', value: 'PONG' })
  })

  it('fails queued tasks with PoolClosedError when closed', async () => {
    const pool = new RedisPool(open, 1)
    let release = () => {}
    let lent = () => {}
    const connectionLent = new Promise<void>((resolve) => (lent = resolve))
    const holding = pool.use(
      () =>
        new Promise<void>((resolve) => {
          release = resolve
          lent()
        })
    )
    // The only connection is lent out, so the next task can only queue.
    await connectionLent
    let ran = false
    const queued = pool.use(async () => {
      ran = true
      return 'never'
    })
    pool.close()
    await expect(queued).rejects.toBeInstanceOf(PoolClosedError)
    expect(ran).toBe(false)
    release()
    await holding
  })
})
