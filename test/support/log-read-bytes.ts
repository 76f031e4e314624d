/**
 * What one coherence read costs on the wire: a purge-log read through the real client and scripts,
 * with the bytes of the Upstash server's HTTP answer counted as they arrive in this process.
 */
import { PurgeLog, type LogRead } from '../../src/coherence/purge-log.ts'
import { createRedisClient } from '../../src/tiers/redis-client.ts'
import { RedisHealth } from '../../src/tiers/redis-health.ts'
import { encodeView, SHARED_TAIL_DELTAS, tailOf } from '../../src/coherence/colo-view.ts'

export interface MeasuredRead {
  knownSeq: number
  records: number
  /** Bytes of record JSON in the answer. */
  recordBytes: number
  /** Bytes of the HTTP answer's body (what Upstash bills as bandwidth). */
  responseBytes: number
  read: LogRead
}

/** Reads the log under `prefix` from `knownSeq`, counting the answer's bytes. */
export async function measureLogRead(url: string, token: string, prefix: string, knownSeq: number): Promise<MeasuredRead> {
  const log = new PurgeLog(createRedisClient({ url, token, timeoutMs: 10_000 }), prefix, new RedisHealth({ breakerFailures: 3, breakerCooldownMs: 5000, now: Date.now }))
  const realFetch = globalThis.fetch
  let responseBytes = 0
  globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
    const res = await realFetch(...args)
    const body = new Uint8Array(await res.arrayBuffer())
    responseBytes += body.byteLength
    return new Response(body, { status: res.status, headers: res.headers })
  }
  try {
    const read = await log.read(knownSeq)
    return { knownSeq, records: read.records.length, recordBytes: read.bytes, responseBytes, read }
  } finally {
    globalThis.fetch = realFetch
  }
}

/** Bytes of the shared copy an isolate holding `read`'s records would publish at δ = `deltaMs` (src/coherence/colo-view.ts). */
export function sharedCopyBytes(read: LogRead, logId: string, deltaMs: number): number {
  const sizes = read.records.map((r) => JSON.stringify(r).length)
  return encodeView({ readAt: Date.now(), current: read.current, ...tailOf(read.records, sizes, read.from + 1, read.current, SHARED_TAIL_DELTAS * deltaMs) }, logId).length
}
