/**
 * @module The published results of other shared caches that ship with the suite
 * (`cache-tests/results/<name>.json`, the rows of cache-tests.fyi), scored by the same rules as tiercache's.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { classify, type Scoring } from './classify.ts'
import type { ScoreRow } from './report.ts'
import type { SuiteResults } from './suite-client.ts'

/** The reverse proxies and CDNs to compare with, in the order of their published required passes. */
export const PUBLISHED_CACHES = ['trafficserver', 'apache', 'squid', 'varnish', 'caddy', 'nginx', 'fastly', 'haproxy'] as const

/** Scores each published results file that the suite has; a missing one is skipped. */
export async function publishedRows(suiteDir: string, scoring: Scoring): Promise<ScoreRow[]> {
  const rows: ScoreRow[] = []
  for (const name of PUBLISHED_CACHES) {
    const file = path.join(suiteDir, 'results', `${name}.json`)
    let text: string
    try {
      text = await fs.readFile(file, 'utf8')
    } catch {
      continue
    }
    rows.push({ label: name, classification: classify(scoring, JSON.parse(text) as SuiteResults) })
  }
  return rows
}
