import { rm } from 'node:fs/promises'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { buildWorker, bundleDir } from '../../scripts/build-worker.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Unique per `vitest run`: test/support/package.ts packs the npm tarball once per run under it. */
    runId: string
  }
}

/**
 * Bundles the worker once per test run so every Miniflare-based suite boots the same artefact, and names
 * the run for the tarball the package and example tests share (removed afterwards).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = `${process.pid}-${Date.now()}`
  project.provide('runId', runId)
  await buildWorker()
  return () => rm(path.join(bundleDir, 'pack', runId), { recursive: true, force: true })
}
