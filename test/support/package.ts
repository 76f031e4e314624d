/**
 * The npm package in tests: packed once per test run (scripts/lib/examples.ts does the packing, installing
 * and bundling), and bundled examples started in workerd.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Miniflare } from 'miniflare'
import { inject } from 'vitest'
import { bundleDir, projectRoot } from '../../scripts/build-worker.ts'
import { exec, exists, pack, packageName } from '../../scripts/lib/examples.ts'

export { installExample, wranglerBuild, wranglerConfig, type InstalledExample } from '../../scripts/lib/examples.ts'

/**
 * Packs the project once per test run and returns the tarball's path. Test files run in several processes:
 * the first to take the lock packs, the others wait for its result.
 */
export async function packedTarball(): Promise<string> {
  const dir = path.join(bundleDir, 'pack', inject('runId'))
  await mkdir(dir, { recursive: true })
  const done = path.join(dir, 'done.json')
  try {
    await mkdir(path.join(dir, 'lock'))
  } catch {
    const deadline = Date.now() + 240_000
    while (!(await exists(done))) {
      if (Date.now() > deadline) throw new Error(`another test process has been packing into ${dir} for 240 s`)
      await new Promise((r) => setTimeout(r, 100))
    }
    const result = JSON.parse(await readFile(done, 'utf8')) as { tarball?: string; error?: string }
    if (result.error !== undefined) throw new Error(`npm pack failed (in another test process): ${result.error}`)
    return result.tarball!
  }
  try {
    const tarball = await pack(dir)
    await writeFile(done, JSON.stringify({ tarball }))
    return tarball
  } catch (error) {
    await writeFile(done, JSON.stringify({ error: (error as Error).message }))
    throw error
  }
}

/** The files in a tarball, as `tar -tzf` lists them (`package/...`). */
export async function tarballFiles(tarball: string): Promise<string[]> {
  return (await exec('tar', ['-tzf', tarball], projectRoot)).split('\n').filter((line) => line !== '')
}

/** Unpacks a tarball into `<dir>/node_modules/<name>`, the way npm lays it out, and returns that path. */
export async function unpackInto(tarball: string, dir: string): Promise<string> {
  const target = path.join(dir, 'node_modules', packageName)
  await mkdir(target, { recursive: true })
  await exec('tar', ['-xzf', tarball, '-C', target, '--strip-components=1'], projectRoot)
  return target
}

/** An example worker running in workerd. */
export interface ExampleWorker {
  mf: Miniflare
  fetch(path: string, init?: RequestInit): Promise<Response>
  dispose(): Promise<void>
}

/** Runs a bundled example in workerd (Miniflare) with `bindings` (its vars plus the test's overrides). */
export async function startExampleWorker(script: string, compatibilityDate: string, bindings: Record<string, string>): Promise<ExampleWorker> {
  // Module names are relative to modulesRoot, and the bundle lives in a temporary directory.
  const mf = new Miniflare({ host: '127.0.0.1', port: 0, modules: true, scriptPath: script, modulesRoot: path.dirname(script), compatibilityDate, bindings })
  await mf.ready
  return {
    mf,
    fetch: (p, init) => mf.dispatchFetch(`http://example.test${p}`, init as never) as unknown as Promise<Response>,
    dispose: () => mf.dispose(),
  }
}
