/**
 * @module What a result was measured on: the exact command, package versions (as installed, not as
 * requested), the machine, redis-server, and the git commit (with a dirty flag: a benchmark of
 * uncommitted code must say so).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { projectRoot } from '../build-worker.ts'

/** Everything the report records about where and how it was run. */
export interface Environment {
  command: string
  argv: string[]
  startedAt: string
  versions: Record<string, string>
  machine: { nproc: number; cpuModel: string; memoryGiB: number; os: string; kernel: string }
  git: { commit: string; dirty: boolean; changedFiles: string[] }
}

const installedVersion = (pkgDir: string): string => {
  try {
    return (JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'not installed'
  }
}

const run = (file: string, args: string[]): string => {
  try {
    return execFileSync(file, args, { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}

/** Collects the environment once, at start. */
export function describeEnvironment(argv: string[]): Environment {
  const nm = (name: string) => path.join(projectRoot, 'node_modules', name)
  // The workerd that Miniflare (and so every measured worker) runs is Miniflare's own dependency.
  const miniflareWorkerd = path.join(nm('miniflare'), 'node_modules', 'workerd')
  const workerd = installedVersion(miniflareWorkerd) !== 'not installed' ? installedVersion(miniflareWorkerd) : installedVersion(nm('workerd'))
  const redisVersion = /v=(\S+)/.exec(run('redis-server', ['--version']))?.[1] ?? 'unknown'
  const status = run('git', ['status', '--porcelain'])
  const changedFiles = status
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(3))
    .filter((file) => file.startsWith('src/'))
  return {
    command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
    argv,
    startedAt: new Date().toISOString(),
    versions: {
      node: process.version.replace(/^v/, ''),
      workerd,
      miniflare: installedVersion(nm('miniflare')),
      wrangler: installedVersion(nm('wrangler')),
      hono: installedVersion(nm('hono')),
      '@upstash/redis': installedVersion(nm('@upstash/redis')),
      autocannon: installedVersion(nm('autocannon')),
      esbuild: installedVersion(nm('esbuild')),
      'redis-server': redisVersion,
    },
    machine: {
      nproc: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
      os: `${os.type()} ${os.arch()}`,
      kernel: os.release(),
    },
    git: {
      commit: run('git', ['rev-parse', 'HEAD']) || 'unknown',
      dirty: changedFiles.length > 0,
      changedFiles,
    },
  }
}

/** Share of all CPUs busy (any process) over the next `ms` milliseconds, from the kernel's CPU times. */
export async function cpuBusyShare(ms = 1000): Promise<number> {
  const sample = () => os.cpus().reduce(
    (acc, cpu) => {
      const { user, nice, sys, idle, irq } = cpu.times
      return { busy: acc.busy + user + nice + sys + irq, total: acc.total + user + nice + sys + idle + irq }
    },
    { busy: 0, total: 0 }
  )
  const before = sample()
  await new Promise((resolve) => setTimeout(resolve, ms))
  const after = sample()
  const total = after.total - before.total
  return total > 0 ? (after.busy - before.busy) / total : Number.NaN
}
