/**
 * The data-API fixture worker (test/fixtures/data-app.ts) on the local stack: bundled once per suite (each
 * suite its own file, so parallel suites never write one bundle at once), started as worker processes that
 * share Redis, plus readers for its answers.
 */
import path from 'node:path'
import { buildWorker, bundleDir } from '../../scripts/build-worker.ts'
import { startStack, type Stack, type StackOptions, type WorkerProcess } from './stack.ts'

/** Starts the stack running the data fixture in `workers` processes. */
export async function startDataStack(suite: string, options: StackOptions = {}): Promise<Stack> {
  const scriptPath = await buildWorker('test/fixtures/data-app.ts', path.join(bundleDir, `data-app-${suite}.js`))
  return startStack({ ...options, scriptPath })
}

/** A data route's answer: status, JSON body and the call's `Server-Timing` outcome(s). */
export interface DataAnswer {
  status: number
  body: { value?: unknown; found?: boolean; error?: string; message?: string; has?: boolean }
  /** The `desc` of each `tiercache-data` metric, in order. */
  outcomes: string[]
}

/** Calls a data route on `worker`. */
export async function dataCall(worker: WorkerProcess, route: string, init?: RequestInit): Promise<DataAnswer> {
  const res = await worker.fetch(route, init)
  const timing = res.headers.get('server-timing') ?? ''
  const outcomes = [...timing.matchAll(/tiercache-data;dur=[0-9.]+;desc="([^"]*)"/g)].map((m) => m[1]!)
  return { status: res.status, body: (await res.json()) as DataAnswer['body'], outcomes }
}

/** How many times the fixture's loader ran for `key` (its Redis counter). */
export async function loads(worker: WorkerProcess, key: string): Promise<number> {
  return ((await (await worker.fetch(`/data/loads?key=${encodeURIComponent(key)}`)).json()) as { loads: number }).loads
}
