/**
 * @module Start-up cost (issue 11 target 5): the minified bundle as `wrangler deploy --dry-run --minify`
 * reports it (total and gzip), what each package contributes to it (esbuild's metafile over the same
 * minified build), and how long a fresh worker process takes to its first response, for tiercache and the
 * hono/cache worker side by side.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import { projectRoot, WORKER_BUILD } from '../build-worker.ts'
import { COMPATIBILITY_DATE } from './workers.ts'

const run = promisify(execFile)

/** One worker's minified bundle as wrangler reports it. */
export interface BundleSize {
  name: string
  entry: string
  /** `Total Upload` in KiB (the minified bundle wrangler would upload). */
  totalKiB: number
  /** Its gzip size in KiB, as wrangler prints it. */
  gzipKiB: number
  /** Minified bytes per package (`src/<folder>` for our own code), largest first. */
  packages: Array<{ name: string; bytes: number }>
}

/** What wrangler prints after a dry run: `Total Upload: 246.02 KiB / gzip: 75.91 KiB`. */
export function parseWranglerSize(output: string): { totalKiB: number; gzipKiB: number } | undefined {
  const match = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(output)
  return match ? { totalKiB: Number(match[1]), gzipKiB: Number(match[2]) } : undefined
}

/** The package a bundled input path belongs to: `@scope/name`, `name`, or `src/<folder>` for our own code. */
export function packageOf(input: string): string {
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)
  if (module) return module[1]!
  const parts = input.split('/')
  return parts.length > 2 ? parts.slice(0, 2).join('/') : input
}

/** Runs `wrangler deploy --dry-run --minify --outdir` for `entry` with a throw-away config. */
export async function bundleSize(name: string, entry: string): Promise<BundleSize> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tiercache-bundle-'))
  try {
    const config = path.join(dir, 'wrangler.json')
    writeFileSync(config, JSON.stringify({ name, main: path.join(projectRoot, entry), compatibility_date: COMPATIBILITY_DATE }))
    const wrangler = path.join(projectRoot, 'node_modules', 'wrangler', 'bin', 'wrangler.js')
    const { stdout, stderr } = await run(process.execPath, [wrangler, 'deploy', '--dry-run', '--minify', '--outdir', path.join(dir, 'out'), '--config', config], {
      cwd: dir,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' },
      maxBuffer: 16 * 1024 * 1024,
    })
    const size = parseWranglerSize(`${stdout}\n${stderr}`)
    if (!size) throw new Error(`wrangler printed no "Total Upload" line for ${entry}: ${stdout.slice(-400)} ${stderr.slice(-400)}`)
    return { name, entry, ...size, packages: await packageShares(entry) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Minified bytes per package, from esbuild's metafile (the same bundler and settings wrangler uses). */
async function packageShares(entry: string): Promise<BundleSize['packages']> {
  const result = await build({
    entryPoints: [path.join(projectRoot, entry)],
    ...WORKER_BUILD,
    minify: true,
    write: false,
    metafile: true,
    outfile: 'out.js',
    logLevel: 'silent',
  })
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)
  const totals = new Map<string, number>()
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const name = packageOf(input)
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput)
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes)
}

/** One fresh worker process: start-up to `ready`, then its first and second responses. */
export interface ColdStart {
  /** Miniflare start to ready: workerd up, bundle compiled and module evaluated (ms). */
  startupMs: number
  /** The first request's round trip on the fresh isolate (ms): lazy set-up plus a miss. */
  firstMs: number
  /** A second, different URL right after: the same work on a warm isolate (ms). */
  secondMs: number
  status: number
}

/** Cold starts of both workers, repetitions interleaved. */
export interface StartupResult {
  bundles: BundleSize[]
  tiercache: ColdStart[]
  hono: ColdStart[]
}
