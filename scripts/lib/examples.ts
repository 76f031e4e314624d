/**
 * @module The examples as a user gets them: the project packed with `npm pack` (whose `prepack` runs
 * `npm run build`), an example copied out of the repository and given tiercache from that tarball with
 * `npm install`, and bundled by wrangler the way `wrangler deploy` bundles it. Used by test/examples and
 * `npm run size`.
 *
 * Only the examples' runtime dependencies are installed (tiercache from the tarball, hono; from npm's cache
 * with `--prefer-offline`); their dev tools (wrangler, TypeScript, workers types) are this project's own.
 */
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { projectRoot } from '../build-worker.ts'

const run = promisify(execFile)

const manifest = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as { name: string; version: string }
/** The package's name. */
export const packageName = manifest.name
/** The tarball's file name, as `npm pack` names it. */
export const tarballName = `${manifest.name}-${manifest.version}.tgz`

/** Runs a command, failing with its output when it exits non-zero; resolves with stdout and stderr. */
export async function exec(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 })
    return `${stdout}${stderr}`
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`)
  }
}

export const exists = (file: string): Promise<boolean> => stat(file).then(() => true, () => false)

/** `npm pack` into `dir` (the build runs first, in `prepack`); returns the tarball's path. */
export async function pack(dir: string): Promise<string> {
  await exec('npm', ['pack', '--pack-destination', dir, '--no-audit', '--no-fund'], projectRoot)
  const tarball = path.join(dir, tarballName)
  if (!(await exists(tarball))) throw new Error(`npm pack wrote no ${tarballName} into ${dir}`)
  return tarball
}

/** A copy of an example with tiercache installed from the tarball. */
export interface InstalledExample {
  dir: string
  remove(): Promise<void>
}

/**
 * Copies `examples/<name>` (without anything installed or built) to a temporary directory and runs
 * `npm install <tarball>` there, as a user following the README would. `rewrite` may change a copied file
 * first (`npm run size` builds the app without its data-API route).
 */
export async function installExample(name: string, tarball: string, rewrite?: (file: string, text: string) => string): Promise<InstalledExample> {
  const source = path.join(projectRoot, 'examples', name)
  const dir = await mkdtemp(path.join(tmpdir(), `tiercache-example-${name}-`))
  const skip = new Set(['node_modules', '.wrangler', 'out', 'out-min', 'dist', 'package-lock.json', '.dev.vars'])
  for (const entry of await readdir(source)) {
    if (!skip.has(entry)) await cp(path.join(source, entry), path.join(dir, entry), { recursive: true })
  }
  if (rewrite) {
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue
      const file = path.join(entry.parentPath, entry.name)
      const text = await readFile(file, 'utf8')
      const changed = rewrite(path.relative(dir, file), text)
      if (changed !== text) await writeFile(file, changed)
    }
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
 * date, which a test passes to Miniflare the way `wrangler dev` would, overriding what only exists locally
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
