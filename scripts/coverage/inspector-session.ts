/**
 * @module A minimal Chrome DevTools Protocol client for workerd's inspector socket: one WebSocket,
 * request/response by `id`, events by `method`. Enough to evaluate an expression in a worker's isolate
 * and read back its value; nothing more.
 */

interface CdpMessage {
  id?: number
  method?: string
  params?: Record<string, unknown>
  result?: Record<string, unknown>
  error?: { code: number; message: string }
}

export interface InspectorSession {
  /** Sends `method` and resolves with its result; rejects on a protocol error or a closed socket. */
  send<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>): Promise<T>
  /** Resolves with the params of the first `method` event that `accept` takes (events already seen count). */
  event<T = Record<string, unknown>>(method: string, accept?: (params: T) => boolean): Promise<T>
  close(): void
}

/** Opens a CDP session on `webSocketUrl` (for workerd: `ws://127.0.0.1:<port>/core:user:<worker name>`). */
export async function openInspectorSession(webSocketUrl: string): Promise<InspectorSession> {
  const socket = new WebSocket(webSocketUrl)
  const pending = new Map<number, { resolve(m: CdpMessage): void; reject(e: Error): void }>()
  const seen: CdpMessage[] = []
  const waiters: Array<{
    method: string
    accept(params: unknown): boolean
    resolve(params: unknown): void
    reject(e: Error): void
  }> = []
  let nextId = 1
  let closed: Error | undefined

  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true })
    socket.addEventListener('error', () => reject(new Error(`cannot open inspector socket ${webSocketUrl}`)), { once: true })
  })
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as CdpMessage
    if (message.id !== undefined) {
      pending.get(message.id)?.resolve(message)
      pending.delete(message.id)
      return
    }
    if (!message.method) return
    seen.push(message)
    for (const waiter of [...waiters]) {
      if (waiter.method === message.method && waiter.accept(message.params)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(message.params)
      }
    }
  })
  socket.addEventListener('close', () => {
    closed = new Error('inspector socket closed')
    for (const { reject } of [...pending.values(), ...waiters]) reject(closed)
    pending.clear()
    waiters.length = 0
  })

  return {
    send<T>(method: string, params: Record<string, unknown> = {}) {
      if (closed) return Promise.reject(closed)
      const id = nextId++
      return new Promise<T>((resolve, reject) => {
        pending.set(id, {
          resolve: (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result as T)),
          reject,
        })
        socket.send(JSON.stringify({ id, method, params }))
      })
    },
    event<T>(method: string, accept: (params: T) => boolean = () => true) {
      const earlier = seen.find((m) => m.method === method && accept(m.params as T))
      if (earlier) return Promise.resolve(earlier.params as T)
      if (closed) return Promise.reject(closed)
      return new Promise<T>((resolve, reject) =>
        waiters.push({ method, accept: accept as (p: unknown) => boolean, resolve: resolve as (p: unknown) => void, reject })
      )
    },
    close: () => socket.close(),
  }
}
