/**
 * @module A private, writable copy of the cache-tests suite with its dependencies installed.
 *
 * The checkout may be read-only (`../shared` is, in CI), so it is copied to a temporary folder. Its
 * registry dependencies are installed once per `package.json` content (and Node major version) into
 * `node_modules/.cache/tiercache-conformance/<hash>/` and linked into each copy. An install is built in a
 * staging folder and renamed into place only when it succeeded, so a half-finished install (Ctrl-C, a
 * network error, two runs at once) is never reused.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { spawnChild } from './child.ts'
import { onCleanup } from '../lib/lifecycle.ts'

/** Files the run needs from the suite; their absence means CACHE_TESTS_DIR points at the wrong folder. */
const REQUIRED_FILES = ['package.json', 'tests/index.mjs', 'test-engine/cli.mjs', 'test-engine/server/server.mjs', 'test-engine/lib/results.mjs']

/** Packages the run imports; an install without them is not complete. */
const REQUIRED_PACKAGES = ['undici']

/** A prepared copy of the suite. */
export interface SuiteCopy {
  /** The copy's root (`…/cache-tests`), writable, with `node_modules` in place. */
  dir: string
  /** The temporary folder holding it (the origin's pid file goes here too). */
  tempDir: string
  /** Whether the dependencies came from the cache (true) or were installed now. */
  cachedInstall: boolean
}

/** Throws a clear error when `suiteDir` does not look like a cache-tests checkout. */
export function checkSuiteDir(suiteDir: string): void {
  const missing = REQUIRED_FILES.filter((file) => !existsSync(path.join(suiteDir, file)))
  if (missing.length > 0) {
    throw new Error(
      `${suiteDir} is not a cache-tests checkout (missing ${missing.join(', ')}); set CACHE_TESTS_DIR to http-tests/cache-tests`
    )
  }
}

/** The cache key of an install: the suite's `package.json` bytes and the Node major version. */
export function installKey(packageJson: string, nodeVersion: string = process.version): string {
  const major = nodeVersion.replace(/^v/, '').split('.')[0]
  return createHash('sha256').update(`node ${major}\n`).update(packageJson).digest('hex').slice(0, 16)
}

/**
 * Copies `suiteDir` into a new temporary folder (removed at cleanup) and links a cached install of its
 * dependencies into it, installing them first when the cache has none for this `package.json`.
 */
export async function prepareSuite(suiteDir: string, cacheRoot: string, log: (line: string) => void): Promise<SuiteCopy> {
  checkSuiteDir(suiteDir)
  const tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tiercache-conformance-'))
  onCleanup(`temporary suite copy ${tempDir}`, () => fs.rm(tempDir, { recursive: true, force: true }))
  const dir = path.join(tempDir, 'cache-tests')
  await fs.cp(suiteDir, dir, {
    recursive: true,
    filter: (source) => !['node_modules', '.git'].includes(path.basename(source)),
  })
  // A read-only checkout yields read-only files and folders; the copy must be writable to be removed.
  await makeWritable(dir)

  const packageJson = await fs.readFile(path.join(dir, 'package.json'), 'utf8')
  const installDir = path.join(cacheRoot, installKey(packageJson))
  const cachedInstall = isCompleteInstall(installDir)
  if (!cachedInstall) {
    log(`installing the suite's dependencies into ${path.relative(process.cwd(), installDir) || installDir} (once per package.json)…`)
    await installInto(installDir, packageJson)
  }
  await fs.symlink(path.join(installDir, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
  return { dir, tempDir, cachedInstall }
}

function isCompleteInstall(installDir: string): boolean {
  return REQUIRED_PACKAGES.every((name) => existsSync(path.join(installDir, 'node_modules', name, 'package.json')))
}

/** Installs the production dependencies of `packageJson` into a staging folder, then renames it into place. */
async function installInto(installDir: string, packageJson: string): Promise<void> {
  const staging = `${installDir}.staging-${process.pid}-${randomBytes(3).toString('hex')}`
  const dropStaging = onCleanup(`staging install ${staging}`, () => fs.rm(staging, { recursive: true, force: true }))
  await fs.mkdir(staging, { recursive: true })
  await fs.writeFile(path.join(staging, 'package.json'), packageJson)
  // Only the suite's runtime dependencies (the linter and schema validator are dev dependencies), quietly.
  const output = await runNpm(['install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', '--no-update-notifier'], staging)
  if (!isCompleteInstall(staging)) {
    throw new Error(`npm install in ${staging} did not install ${REQUIRED_PACKAGES.join(', ')}:\n${output}`)
  }
  try {
    await fs.rename(staging, installDir)
  } catch (error) {
    // Another run finished the same install first: theirs is complete too, keep it.
    if (!isCompleteInstall(installDir)) throw error
  }
  await dropStaging()
}

/** Runs npm (the one that runs this script, else the one on PATH) and resolves with its output; rejects on failure. */
async function runNpm(args: string[], cwd: string): Promise<string> {
  const npmCli = process.env['npm_execpath']
  const [command, commandArgs] = npmCli && npmCli.endsWith('.js') ? [process.execPath, [npmCli, ...args]] : ['npm', args]
  const child = spawnChild('npm install', command, commandArgs, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.process.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.process.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const code = await child.exited
  await child.stop()
  if (code !== 0) throw new Error(`npm ${args.join(' ')} failed (exit ${code}) in ${cwd}:\n${output}`)
  return output
}

async function makeWritable(dir: string): Promise<void> {
  await fs.chmod(dir, 0o755)
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) await makeWritable(full)
    else if (entry.isFile()) await fs.chmod(full, 0o644)
  }
}
