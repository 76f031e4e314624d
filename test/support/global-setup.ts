import type { TestProject } from 'vitest/node'
import { buildWorker } from '../../scripts/build-worker.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Unique per `vitest run`: test/support/package.ts packs the npm tarball once per run under it. */
    runId: string
  }
}

/** Bundles the worker once per test run so every Miniflare-based suite boots the same artefact. */
export default async function setup(project: TestProject): Promise<void> {
  project.provide('runId', `${process.pid}-${Date.now()}`)
  await buildWorker()
}
