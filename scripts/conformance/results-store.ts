/**
 * @module Where a run's files go: `conformance-results/<timestamp>/` (results.json, summary.md and the
 * logs of the origin, the worker and the client) and a copy of results.json and summary.md in
 * `conformance-results/latest/`. Only `latest/summary.md` is committed (see .gitignore).
 */
import fs from 'node:fs/promises'
import path from 'node:path'

/** A run's folder and the files in it. */
export interface RunFiles {
  dir: string
  latestDir: string
  results: string
  summary: string
  originLog: string
  workerLog: string
  clientLog: string
}

/** A file-name-safe UTC timestamp, e.g. `2026-08-01T10-22-03Z`. */
export const runStamp = (date: Date): string => date.toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z')

/** Creates `<outDir>/<stamp>/` and names the files in it. */
export async function createRunFiles(outDir: string, startedAt: Date): Promise<RunFiles> {
  const dir = path.join(outDir, runStamp(startedAt))
  await fs.mkdir(dir, { recursive: true })
  return {
    dir,
    latestDir: path.join(outDir, 'latest'),
    results: path.join(dir, 'results.json'),
    summary: path.join(dir, 'summary.md'),
    originLog: path.join(dir, 'origin.log'),
    workerLog: path.join(dir, 'worker.log'),
    clientLog: path.join(dir, 'client.log'),
  }
}

/** Writes `content` to `file` in the run's folder and to the same name in `latest/`. */
export async function writeWithLatest(files: RunFiles, file: string, content: string): Promise<void> {
  await fs.mkdir(files.latestDir, { recursive: true })
  await fs.writeFile(file, content)
  await fs.writeFile(path.join(files.latestDir, path.basename(file)), content)
}
