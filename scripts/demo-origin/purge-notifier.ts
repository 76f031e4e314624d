/**
 * @module The origin's side of the purge webhook (design §5): after each write, tell tiercache which URL
 * and tag changed, signed with the shared secret, and wait for the answer so the write's response can say
 * whether the purge landed (`X-Purge-Status`). Failures are logged, never thrown: a write has happened.
 */
import { randomUUID } from 'node:crypto'
import { SIGNATURE_HEADER, signPurge } from '../../src/purge/signature.ts'

/** What happened to the webhook call: the HTTP status, `off` (not configured) or `failed` (no answer). */
export type PurgeStatus = number | 'off' | 'failed'

/** The JSON body the webhook receives. */
export interface PurgeBody {
  urls: string[]
  tags: string[]
  /** Unique per call, for the receiver's replay guard (design §4.5). */
  id: string
}

/** Where webhook calls go and the secret that signs them. */
export interface PurgeTarget {
  /** Full URL of the worker's purge route, e.g. `http://127.0.0.1:8787/__tiercache/purge`. */
  url: string
  secret: string
}

export interface PurgeNotifierOptions {
  /** Without a target every call reports `off`. */
  target?: PurgeTarget | undefined
  /** @default 5000 */
  timeoutMs?: number
  /** Where failures are reported. @default console.warn */
  warn?: (message: string) => void
}

/** Sends purge notifications for items. */
export interface PurgeNotifier {
  /** Purges `/items/<id>` and tag `item-<id>`; resolves to the outcome, never rejects. */
  notifyItem(id: string): Promise<PurgeStatus>
  /** Points later calls elsewhere, or turns them off with `undefined` (the worker may start after us). */
  setTarget(target: PurgeTarget | undefined): void
}

/**
 * Checks a purge target; returns an error message or undefined. Shared by the server options, the CLI
 * and {@link PurgeNotifier.setTarget} callers so all three say the same thing.
 */
export function purgeTargetProblem(url: string | undefined, secret: string | undefined): string | undefined {
  if (Boolean(url) !== Boolean(secret)) return 'purgeUrl and purgeSecret must be given together (or neither)'
  if (url && !/^https?:$/.test(URL.parse(url)?.protocol ?? '')) return `purgeUrl must be an http(s) URL, got ${JSON.stringify(url)}`
  return undefined
}

/** The webhook body for one item change. */
export const itemPurgeBody = (id: string): PurgeBody => ({ urls: [`/items/${id}`], tags: [`item-${id}`], id: randomUUID() })

/**
 * Creates the notifier; configuration is checked by the caller (`server.ts`).
 *
 * @example
 * const purge = createPurgeNotifier({ target: { url: 'http://127.0.0.1:8787/__tiercache/purge', secret } })
 * res.setHeader('X-Purge-Status', String(await purge.notifyItem('42')))
 */
export function createPurgeNotifier(options: PurgeNotifierOptions): PurgeNotifier {
  const { timeoutMs = 5000, warn = console.warn } = options
  let target = options.target
  return {
    setTarget(next) {
      target = next
    },
    async notifyItem(id) {
      if (!target) return 'off'
      const { url, secret } = target
      const body = JSON.stringify(itemPurgeBody(id))
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', [SIGNATURE_HEADER]: await signPurge(secret, body) },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        })
        await res.body?.cancel()
        if (!res.ok) warn(`[demo-origin] purge webhook answered ${res.status} for item ${id}`)
        return res.status
      } catch (error) {
        warn(`[demo-origin] purge webhook failed for item ${id}: ${error instanceof Error ? error.message : String(error)}`)
        return 'failed'
      }
    },
  }
}
