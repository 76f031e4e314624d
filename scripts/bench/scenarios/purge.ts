/**
 * @module Purge-to-invisible across two worker processes (design.md §5, target ≤ δ + 1 s).
 *
 * Per trial: create an item at the origin, read it through both processes until each serves it from its
 * cache, change it at the origin directly (PUT bumps its version; no webhook is configured, so the cache is
 * not told), send the signed purge for its URL to one process (alternating), and from the moment the purge
 * answered 200 poll both processes every ~20 ms until neither returns the old version. The delay recorded
 * is from the purge's 200 to the start of the first poll round that saw no old version anywhere.
 *
 * The purge route (`POST /__tiercache/purge`) is built by the purge issue; when it answers 404 the result
 * says "not available in this build" instead of failing the run.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { SIGNATURE_HEADER, signPurge } from '../../../src/purge/signature.ts'
import { servedBy, type BenchContext } from './throughput.ts'
import { percentile } from '../summary.ts'
import type { WorkerProcess } from '../workers.ts'

export interface PurgeTrial {
  id: string
  purgedVia: string
  purgeStatus: number
  /** ms from the purge's 200 to the first clean poll round; undefined if never within the deadline. */
  delayMs: number | undefined
  pollRounds: number
}

export type PurgeResult =
  | { available: false; reason: string; probeStatus?: number; probeBody?: string }
  | {
      available: true
      trials: PurgeTrial[]
      delayMs: { p50: number; p99: number; max: number }
      /** Trials where the old version was still visible at the deadline. */
      timedOut: number
      pollIntervalMs: number
      deadlineMs: number
    }

const POLL_INTERVAL_MS = 20

/** Sends a signed purge of `urls` to `worker`. */
async function sendPurge(worker: WorkerProcess, secret: string, urls: string[]): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ urls, tags: [], id: randomUUID() })
  const res = await worker.get('/__tiercache/purge', {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER.toLowerCase()]: await signPurge(secret, body) },
    body,
  })
  return { status: res.status, body: res.text() }
}

async function readVersion(worker: WorkerProcess, path: string): Promise<{ version: number | undefined; tier: string }> {
  const res = await worker.get(path)
  const text = res.text()
  let version: number | undefined
  try {
    version = (JSON.parse(text) as { version?: number }).version
  } catch {
    version = undefined
  }
  return { version: res.status === 200 ? version : undefined, tier: servedBy(res.header('cache-status')) }
}

/** Runs `trials` purge trials, or reports why the purge cannot be measured. */
export async function runPurge(
  ctx: BenchContext,
  options: { workers: [WorkerProcess, WorkerProcess]; secret: string; trials: number; deadlineMs: number; keyPrefix: string }
): Promise<PurgeResult> {
  const { workers, secret, trials, deadlineMs, keyPrefix } = options
  const probe = await sendPurge(workers[0], secret, [`/items/${keyPrefix}-probe`])
  if (probe.status === 404) return { available: false, reason: 'purge not available in this build (POST /__tiercache/purge answered 404)', probeStatus: 404, probeBody: probe.body.slice(0, 200) }
  if (probe.status !== 200) {
    return { available: false, reason: `purge route answered ${probe.status} to a signed purge of one URL`, probeStatus: probe.status, probeBody: probe.body.slice(0, 300) }
  }

  const results: PurgeTrial[] = []
  for (let t = 0; t < trials; t++) {
    const id = `${keyPrefix}-${t}`
    const path = `/items/${id}`
    const { version: oldVersion } = await ctx.origin.putItem(id, `bench body ${t}`)
    // Fill: read through both until each answers from a cache tier with the old version.
    for (const worker of workers) {
      for (let attempt = 0; attempt < 50; attempt++) {
        const seen = await readVersion(worker, path)
        if (seen.version === oldVersion && seen.tier !== 'origin') break
        await sleep(20)
      }
    }
    const { version: newVersion } = await ctx.origin.putItem(id, `bench body ${t} changed`)
    const via = workers[t % 2]!
    const purge = await sendPurge(via, secret, [path])
    const purgedAt = performance.now()
    let delayMs: number | undefined
    let rounds = 0
    if (purge.status === 200) {
      while (performance.now() - purgedAt < deadlineMs) {
        const roundAt = performance.now()
        rounds++
        const seen = await Promise.all(workers.map((w) => readVersion(w, path)))
        if (seen.every((s) => s.version !== oldVersion)) {
          delayMs = roundAt - purgedAt
          break
        }
        const wait = POLL_INTERVAL_MS - (performance.now() - roundAt)
        if (wait > 0) await sleep(wait)
      }
    }
    results.push({ id, purgedVia: via.name, purgeStatus: purge.status, delayMs, pollRounds: rounds })
    ctx.log(`purge: trial ${t + 1}/${trials} via ${via.name} → ${purge.status}, v${oldVersion}→v${newVersion} invisible after ${delayMs === undefined ? '—' : `${Math.round(delayMs)} ms`}`)
  }
  const delays = results.map((r) => (r.delayMs === undefined ? deadlineMs : r.delayMs))
  return {
    available: true,
    trials: results,
    delayMs: { p50: percentile(delays, 50), p99: percentile(delays, 99), max: Math.max(...delays) },
    timedOut: results.filter((r) => r.delayMs === undefined).length,
    pollIntervalMs: POLL_INTERVAL_MS,
    deadlineMs,
  }
}
