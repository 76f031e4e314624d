/**
 * @module Proof that classify.ts scores exactly as cache-tests.fyi's classification script does: runs the
 * real `summarize.mjs` (beside the suite: `../shared/conformance/summarize.mjs`) on the same results file
 * and compares its `--line` output with ours, line for line.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { spawnChild } from './child.ts'

/** Where summarize.mjs lives for a suite checkout: in the folder that holds `cache-tests/`. */
export const summarizeScriptFor = (suiteDir: string): string => path.join(path.dirname(suiteDir), 'summarize.mjs')

/** The outcome of a comparison. */
export type SummarizeCheck =
  | { status: 'same' }
  | { status: 'different'; ours: string[]; theirs: string[] }
  | { status: 'unavailable'; reason: string }

/**
 * Runs `node summarize.mjs <suiteDir> --line <label>=<resultsFile>` and compares its lines with `ours`.
 * `suiteDir` must have the suite's dependencies resolvable (summarize.mjs imports the suite's modules only).
 */
export async function checkAgainstSummarize(summarizeScript: string, suiteDir: string, label: string, resultsFile: string, ours: string[]): Promise<SummarizeCheck> {
  if (!existsSync(summarizeScript)) return { status: 'unavailable', reason: `${summarizeScript} not found` }
  const child = spawnChild('summarize.mjs', process.execPath, [summarizeScript, suiteDir, '--line', `${label}=${resultsFile}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let errors = ''
  child.process.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.process.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()))
  const code = await child.exited
  await child.stop()
  if (code !== 0) throw new Error(`summarize.mjs exited with ${code}: ${errors}`)
  const theirs = output.split('\n').filter((line) => line.length > 0)
  const same = theirs.length === ours.length && theirs.every((line, i) => line === ours[i])
  return same ? { status: 'same' } : { status: 'different', ours, theirs }
}
