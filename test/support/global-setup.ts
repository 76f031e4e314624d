import { buildWorker } from '../../scripts/build-worker.ts'

/** Bundles the worker once per test run so every Miniflare-based suite boots the same artefact. */
export default async function setup(): Promise<void> {
  await buildWorker()
}
