/**
 * One data centre's isolates: several workers in one workerd (one Miniflare), each its own V8 isolate
 * with its own memory tier, all sharing one Cache API store (Miniflare routes every worker's
 * `caches.default` to one cache object). Worker processes started by test/support/stack.ts each have
 * their own store, like separate data centres.
 */
import { Miniflare } from 'miniflare'
import { workerBundlePath } from '../../scripts/build-worker.ts'
import { TEST_INTERNAL_TOKEN, type Stack, type WorkerStats } from './stack.ts'

/** One isolate of the data centre. */
export interface Isolate {
  name: string
  fetch(path: string, init?: RequestInit): Promise<Response>
  stats(): Promise<WorkerStats>
}

export interface Colo {
  mf: Miniflare
  isolates: Isolate[]
  /** The shared Cache API store, as the test sees it. */
  caches(): ReturnType<Miniflare['getCaches']>
  dispose(): Promise<void>
}

/**
 * Starts `count` isolates of the stack's worker sharing one Cache API store. `cache: false` gives them a
 * Cache API that keeps nothing (as on `*.workers.dev`).
 */
export async function startColo(stack: Stack, count: number, vars: Record<string, string> = {}, options: { cache?: boolean } = {}): Promise<Colo> {
  const names = Array.from({ length: count }, (_, i) => `isolate-${i}`)
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    workers: names.map((name) => ({
      name,
      modules: true,
      scriptPath: workerBundlePath,
      compatibilityDate: '2026-07-01',
      bindings: stack.bindings(vars),
      cache: options.cache ?? true,
    })),
  })
  await mf.ready
  const isolates: Isolate[] = []
  for (const name of names) {
    const worker = await mf.getWorker(name)
    const fetch = (path: string, init?: RequestInit) => worker.fetch(`http://tiercache.test${path}`, init as never) as unknown as Promise<Response>
    isolates.push({
      name,
      fetch,
      async stats() {
        const res = await fetch('/__tiercache/stats', { headers: { authorization: `Bearer ${TEST_INTERNAL_TOKEN}` } })
        return (await res.json()) as WorkerStats
      },
    })
  }
  return { mf, isolates, caches: () => mf.getCaches(), dispose: () => mf.dispose() }
}
