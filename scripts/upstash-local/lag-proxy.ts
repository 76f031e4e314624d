/**
 * @module
 * A TCP proxy for the replication link of the local global database: the replica connects to the
 * primary through it, and every byte the primary sends is held back `lagMs` before it is passed on.
 * That is replication lag as a far read region sees it — the replica keeps answering reads at once,
 * from data that is `lagMs` old — which freezing the replica (SIGSTOP) cannot model: that stops its
 * reads too. Bytes keep their order when the lag is changed while they are in flight.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'

/** A running proxy. */
export interface LagProxy {
  /** The port the replica connects to (`--replicaof 127.0.0.1 <port>`). */
  readonly port: number
  /** Delay added to bytes from the primary, in ms. */
  lagMs: number
  close(): Promise<void>
}

/** Starts a proxy on a free 127.0.0.1 port in front of `target`. */
export async function startLagProxy(target: { host: string; port: number }, lagMs = 0): Promise<LagProxy> {
  const sockets = new Set<net.Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const state = { lagMs }
  const server = net.createServer((downstream) => {
    const upstream = net.connect(target)
    sockets.add(downstream).add(upstream)
    // The replica's own bytes (handshake, REPLCONF ACK) go through at once: lag is what the primary sends.
    downstream.on('data', (chunk) => upstream.write(chunk))
    // Each chunk leaves no earlier than `lagMs` after it arrived, and never before the chunk ahead of it.
    let lastDue = 0
    upstream.on('data', (chunk) => {
      const due = Math.max(Date.now() + state.lagMs, lastDue)
      lastDue = due
      const timer = setTimeout(() => {
        timers.delete(timer)
        if (!downstream.destroyed) downstream.write(chunk)
      }, due - Date.now())
      timers.add(timer)
    })
    const close = () => {
      downstream.destroy()
      upstream.destroy()
      sockets.delete(downstream)
      sockets.delete(upstream)
    }
    for (const socket of [downstream, upstream]) {
      socket.on('error', close)
      socket.on('close', close)
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    get lagMs() {
      return state.lagMs
    },
    set lagMs(value: number) {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`lagMs must be a non-negative number, got ${value}`)
      state.lagMs = value
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
