/**
 * Bundles `src/worker.ts` into `build/worker.js` with esbuild, the way `wrangler deploy` would, so that
 * Miniflare-based tests and the benchmark run the exact artefact that ships (`npm run build:worker`).
 * Bundles go to `build/`, never `dist/`: `dist/` is the npm package (`npm run build`, scripts/build-package.ts).
 */
import { build, type BuildOptions } from 'esbuild'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
/** Where worker bundles for tests, the benchmark and coverage go (git-ignored, never packed). */
export const bundleDir = path.join(projectRoot, 'build')
export const workerBundlePath = path.join(bundleDir, 'worker.js')

/** esbuild settings for a Workers bundle (the ones wrangler uses); the start-up benchmark measures with them too. */
export const WORKER_BUILD = {
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  mainFields: ['browser', 'module', 'main'],
  conditions: ['workerd', 'worker', 'browser'],
} as const satisfies BuildOptions

/** Builds the worker bundle and returns its path. */
export async function buildWorker(entry = 'src/worker.ts', outfile = workerBundlePath): Promise<string> {
  await build({
    entryPoints: [path.join(projectRoot, entry)],
    outfile,
    ...WORKER_BUILD,
    sourcemap: 'linked',
    logLevel: 'warning',
  })
  return outfile
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildWorker()
  console.log(`built ${path.relative(projectRoot, out)}`)
}
