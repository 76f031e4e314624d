/**
 * @module Makes sure the browser the dashboard test drives is there (`npm test`): Debian's `chromium`, at
 * `CHROMIUM_PATH` or /usr/bin/chromium. On a Debian machine where this run is root (a fresh CI or dev box)
 * it installs the package, as the README's one test command promises; anywhere else it says what to run.
 */
import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'

export const chromiumPath = (): string => process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const hasAptGet = (): boolean => spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0

/** Returns the browser's path, or an error message saying how to get one. */
export function ensureChromium(log: (line: string) => void = console.log): { path: string } | { error: string } {
  const path = chromiumPath()
  if (existsSync(path)) return { path }
  const help = `Chromium not found at ${path}: install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH.`
  if (process.env.CHROMIUM_PATH || process.getuid?.() !== 0 || !hasAptGet()) return { error: help }
  log('chromium missing: installing it (apt-get install -y chromium) for the dashboard browser test')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'chromium']]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env })
    if (result.status !== 0) return { error: `${help} (apt-get ${args.join(' ')} exited with ${result.status})` }
  }
  return existsSync(path) ? { path } : { error: help }
}
