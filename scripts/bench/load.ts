/**
 * @module Load generation, two ways:
 * - {@link runLoad}: autocannon, closed loop (keep-alive connections, one request in flight each, as fast
 *   as answers come): throughput. Latencies are taken from autocannon's per-response event at full
 *   resolution (its own histogram rounds to whole milliseconds, too coarse for sub-millisecond hits).
 * - {@link runPacedLoad}: open loop at a fixed offered rate (evenly spaced sends, as many requests in
 *   flight as needed): latency at a given load. autocannon's own rate limit releases each second's quota
 *   in a burst, which turns into queueing, so it is not used for this.
 */
import autocannon from 'autocannon'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from './client.ts'
import { summariseLatencies, type LatencySummary } from './summary.ts'

/** What to send. */
export interface LoadSpec {
  /** Base URL (scheme, host, port). */
  url: string
  /** One fixed path, or a function called once per request for the next path. */
  path: string | (() => string)
  connections: number
  /** Run for this many seconds … */
  durationS?: number
  /** … or until this many responses arrived (takes precedence). */
  amount?: number
  /** Per-request timeout in seconds. @default 10 */
  timeoutS?: number
  /** Extra request headers (the workers get `Host: tiercache.bench`). */
  headers?: Record<string, string>
}

/** One load run's outcome. */
export interface LoadResult {
  responses: number
  elapsedS: number
  /** Responses per second. */
  rps: number
  latencyMs: LatencySummary
  /** Responses by status code. */
  statuses: Record<string, number>
  /** Connection errors and timeouts. */
  errors: number
  timeouts: number
}

/** Grows like an array, stores doubles without boxing. */
class Samples {
  #buffer = new Float64Array(1 << 16)
  length = 0
  push(value: number): void {
    if (this.length === this.#buffer.length) {
      const bigger = new Float64Array(this.#buffer.length * 2)
      bigger.set(this.#buffer)
      this.#buffer = bigger
    }
    this.#buffer[this.length++] = value
  }
  view(): Float64Array {
    return this.#buffer.subarray(0, this.length)
  }
}

/** Runs one load and resolves with its figures. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latencies = new Samples()
  const statuses: Record<string, number> = {}
  const dynamic = typeof spec.path === 'function' ? spec.path : undefined
  const options: autocannon.Options = {
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    timeout: spec.timeoutS ?? 10,
    headers: spec.headers ?? {},
    ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.durationS ?? 5 }),
    requests: [
      dynamic
        ? { method: 'GET', setupRequest: (request) => ({ ...request, path: dynamic() }) }
        : { method: 'GET', path: spec.path as string },
    ],
  }
  return new Promise((resolve, reject) => {
    const started = performance.now()
    let firstAt: number | undefined
    const instance = autocannon(options, (error, result) => {
      if (error) return reject(error instanceof Error ? error : new Error(String(error)))
      const elapsedS = (performance.now() - (firstAt ?? started)) / 1000
      resolve({
        responses: latencies.length,
        elapsedS,
        rps: latencies.length / elapsedS,
        latencyMs: summariseLatencies(latencies.view()),
        statuses,
        errors: result.errors,
        timeouts: result.timeouts,
      })
    })
    instance.on('start', () => {
      firstAt = performance.now()
    })
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime)
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1
    })
  })
}

/**
 * Sends `rate` requests per second, evenly spaced, for `durationS` seconds, without waiting for answers
 * (open loop), then waits for the stragglers. Latency runs from each request's send to its last byte.
 */
export async function runPacedLoad(spec: { url: string; path: string | (() => string); rate: number; durationS: number; headers?: Record<string, string> }): Promise<LoadResult> {
  const latencies = new Samples()
  const statuses: Record<string, number> = {}
  let errors = 0
  const inFlight = new Set<Promise<void>>()
  const next = typeof spec.path === 'function' ? spec.path : () => spec.path as string
  const total = Math.round(spec.rate * spec.durationS)
  const interval = 1000 / spec.rate
  const started = performance.now()
  for (let i = 0; i < total; i++) {
    const due = started + i * interval
    const wait = due - performance.now()
    if (wait > 1) await sleep(wait)
    const sent = performance.now()
    const p: Promise<void> = request(spec.url, next(), { headers: spec.headers ?? {} }).then(
      (res) => {
        latencies.push(performance.now() - sent)
        statuses[res.status] = (statuses[res.status] ?? 0) + 1
      },
      () => {
        errors++
      }
    )
    inFlight.add(p)
    void p.finally(() => inFlight.delete(p))
  }
  const sendingS = (performance.now() - started) / 1000
  await Promise.race([Promise.all(inFlight), sleep(10_000)])
  return {
    responses: latencies.length,
    elapsedS: sendingS,
    rps: latencies.length / sendingS,
    latencyMs: summariseLatencies(latencies.view()),
    statuses,
    errors,
    timeouts: inFlight.size,
  }
}
