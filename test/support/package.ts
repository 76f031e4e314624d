/**
 * The npm package as a user gets it: `npm pack` (whose `prepack` runs `npm run build`) once per test run,
 * and the examples installed from that tarball into temporary copies, bundled by wrangler the way
 * `wrangler deploy` bundles them, ready for Miniflare.
 *
 * The examples' runtime dependencies (tiercache from the tarball, hono) are installed with npm from its
 * cache (`--prefer-offline`); their dev tools (wrangler, TypeScript, workers types) are this project's own,
 * so the install stays small.
 */
import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { Miniflare } from 'miniflare'
import { inject } from 'vitest'
import { bundleDir, projectRoot } from '../../scripts/build-worker.ts'

const run = promisify(execFile)

const packageJson = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as { name: string; version: string }
/** The tarball's file name, as `npm pack` names it. */
export const tarballName = `${packageJson.name}-${packageJson.version}.tgz`

/** Runs a command, failing with its output when it exits non-zero. */
async function exec(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 })
    return `${stdout}${stderr}`
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`)
  }
}

const exists = (file: string) => stat(file).then(() => true, () => false)

/**
 * Packs the project once per test run (test files run in several processes: the first to take the lock
 * packs, the others wait for its result) and returns the tarball's path.
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
    await exec('npm', ['pack', '--pack-destination', dir, '--no-audit', '--no-fund'], projectRoot)
    const tarball = path.join(dir, tarballName)
    if (!(await exists(tarball))) throw new Error(`npm pack wrote no ${tarballName} into ${dir}`)
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
  const target = path.join(dir, 'node_modules', packageJson.name)
  await mkdir(target, { recursive: true })
  await exec('tar', ['-xzf', tarball, '-C', target, '--strip-components=1'], projectRoot)
  return target
}

/** A copy of an example with tiercache installed from the tarball. */
export interface InstalledExample {
  dir: string
  remove(): Promise<void>
}

/**
 * Copies `examples/<name>` (without anything installed or built) to a temporary directory and runs
 * `npm install <tarball>` there, as a user following the README would (runtime dependencies only).
 */
export async function installExample(name: string, tarball: string): Promise<InstalledExample> {
  const source = path.join(projectRoot, 'examples', name)
  const dir = await mkdtemp(path.join(tmpdir(), `tiercache-example-${name}-`))
  const skip = new Set(['node_modules', '.wrangler', 'out', 'dist', 'package-lock.json', '.dev.vars'])
  for (const entry of await readdir(source)) {
    if (!skip.has(entry)) await cp(path.join(source, entry), path.join(dir, entry), { recursive: true })
  }
  await exec('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=dev', tarball], dir)
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

/** What `wrangler deploy --dry-run` reports and writes. */
export interface WranglerBuild {
  /** The bundled worker module. */
  script: string
  /** `Total Upload: … KiB / gzip: … KiB`, in KiB as wrangler prints them. */
  totalKiB: number
  gzipKiB: number
}

/** Bundles an installed example with this project's wrangler: `wrangler deploy --dry-run --outdir`. */
export async function wranglerBuild(dir: string, options: { minify?: boolean } = {}): Promise<WranglerBuild> {
  const outdir = path.join(dir, options.minify ? 'out-min' : 'out')
  const output = await exec(
    process.execPath,
    [path.join(projectRoot, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir, ...(options.minify ? ['--minify'] : [])],
    dir,
    { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' }
  )
  const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output)
  if (!size) throw new Error(`wrangler printed no upload size:\n${output}`)
  const scripts = (await readdir(outdir)).filter((f) => f.endsWith('.js'))
  if (scripts.length !== 1) throw new Error(`expected one bundled module in ${outdir}, found ${scripts.join(', ')}`)
  return { script: path.join(outdir, scripts[0]!), totalKiB: Number(size[1]), gzipKiB: Number(size[2]) }
}

/**
 * The example's wrangler config as wrangler itself reads it (TOML or JSONC): its vars and compatibility
 * date, which a test passes to Miniflare the way `wrangler dev` would, overriding what only exists here
 * (local Redis, demo origin, secrets) like `wrangler dev --var`.
 */
export async function wranglerConfig(dir: string): Promise<{ vars: Record<string, string>; compatibilityDate: string }> {
  const { unstable_readConfig } = await import('wrangler')
  const file = (await exists(path.join(dir, 'wrangler.toml'))) ? 'wrangler.toml' : 'wrangler.jsonc'
  const config = unstable_readConfig({ config: path.join(dir, file) }, { hideWarnings: true })
  const vars: Record<string, string> = {}
  for (const [name, value] of Object.entries(config.vars)) vars[name] = typeof value === 'string' ? value : JSON.stringify(value)
  if (!config.compatibility_date) throw new Error(`${file} in ${dir} has no compatibility_date`)
  return { vars, compatibilityDate: config.compatibility_date }
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
