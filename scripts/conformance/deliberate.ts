/**
 * @module Known failures: tests tiercache fails knowingly, each for a stated cause — a deliberate rule
 * stricter than RFC 9111 (README "How it decides": `Set-Cookie` is never stored, `Cookie` is a credential
 * like `Authorization`, and a few others), a limit of the Workers platform (no 1xx to clients, methods
 * workerd refuses), or a suite fixture tiercache will not accept. `deliberate.json` beside this file maps
 * each test id to its reason. They still count as failures in the scores; the report lists them apart so
 * the other failures stand out, and flags any listed test that no longer fails.
 */
import fs from 'node:fs/promises'
import type { FailedTest, TestSuite } from './classify.ts'

/** Test id → why tiercache fails it on purpose. */
export type Deliberate = Record<string, string>

/** Failures split into the deliberate ones and the rest. */
export interface SplitFailures {
  deliberate: Array<FailedTest & { reason: string }>
  other: FailedTest[]
  /** Listed as deliberate, but the test did not fail: the list is out of date. */
  stale: string[]
}

/** Reads deliberate.json and checks that every id is a test of `suites` with a reason. */
export async function readDeliberate(file: string, suites: TestSuite[]): Promise<Deliberate> {
  const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>
  const known = new Set(suites.flatMap((suite) => suite.tests.map((test) => test.id)))
  const out: Deliberate = {}
  for (const [id, reason] of Object.entries(parsed)) {
    if (id.startsWith('$')) continue
    if (!known.has(id)) throw new Error(`${file}: ${id} is not a test of this cache-tests suite`)
    if (typeof reason !== 'string' || reason.trim() === '') throw new Error(`${file}: ${id} needs a reason`)
    out[id] = reason
  }
  return out
}

/** Splits `failed` by whether the test is a deliberate difference. */
export function splitFailures(failed: FailedTest[], deliberate: Deliberate): SplitFailures {
  const failedIds = new Set(failed.map((test) => test.id))
  return {
    deliberate: failed.filter((test) => test.id in deliberate).map((test) => ({ ...test, reason: deliberate[test.id]! })),
    other: failed.filter((test) => !(test.id in deliberate)),
    stale: Object.keys(deliberate).filter((id) => !failedIds.has(id)),
  }
}
