/**
 * "Every README example runs as written against `npm run dev`": this starts the real dev stack
 * (scripts/dev.ts: redis check, Upstash-compatible server, demo origin, `wrangler dev`) on free ports with
 * its own Redis key prefix, takes the secrets from what it prints, and runs every `curl` and `npm run purge`
 * command of README.md's shell blocks — and the ready-to-paste commands the dev stack printed — with bash.
 * The only rewrite is the port (`127.0.0.1:8787` → the free one) and `--fail-with-body` on each curl, so an
 * example that meets a 404 (a URL or tag the demo origin does not have) or a 401 fails the test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { projectRoot } from '../../scripts/build-worker.ts'
import { devSecrets, parseDevVars, DEV_INTERNAL_TOKEN, DEV_PURGE_SECRET } from '../../scripts/lib/dev-settings.ts'
import { freePort } from './upstash-local/helpers.ts'
import { eventually } from '../support/stack.ts'

/** The shell commands of a README `sh` block that talk to the dev stack: assignments, `curl`, `npm run purge`. */
export function runnableCommands(block: string): string[] {
  // Backslash continuations make one command.
  const lines = block.replace(/\\\n\s*/g, ' ').split('\n')
  return lines.map((l) => l.trim()).filter((l) => /^(curl |npm run purge |[A-Z]+=)/.test(l))
}

/** Every ```sh block of a Markdown text. */
const shellBlocks = (markdown: string): string[] => [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!)

describe('.dev.vars and the environment', () => {
  it('parses dotenv lines as wrangler does', () => {
    expect(parseDevVars('# comment\nINTERNAL_TOKEN="a b"\nexport PURGE_SECRET=\'0123456789abcdefg\'\nX = 1 # note\n\nbad line\n')).toEqual({
      INTERNAL_TOKEN: 'a b',
      PURGE_SECRET: '0123456789abcdefg',
      X: '1',
    })
  })

  it('takes the environment over .dev.vars over the dev defaults, and says which', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'tiercache-devvars-'))
    try {
      expect(devSecrets({}, root)).toMatchObject({ internalToken: DEV_INTERNAL_TOKEN, purgeSecret: DEV_PURGE_SECRET, sources: { internalToken: 'dev default' } })
      await writeFile(path.join(root, '.dev.vars'), 'INTERNAL_TOKEN=from-file\nPURGE_SECRET=file-secret-0123456789\n')
      expect(devSecrets({ INTERNAL_TOKEN: 'from-env' }, root)).toEqual({
        internalToken: 'from-env',
        purgeSecret: 'file-secret-0123456789',
        sources: { internalToken: 'environment', purgeSecret: '.dev.vars' },
      })
      expect(() => devSecrets({ PURGE_SECRET: 'short' }, root)).toThrow('PURGE_SECRET from the environment must be at least 16 characters')
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})

describe('README examples against npm run dev', () => {
  let dev: ChildProcess
  let output = ''
  let exited: number | null | undefined
  let base: string
  let persistTo: string

  beforeAll(async () => {
    const [port, originPort, upstashPort, inspectorPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
    base = `http://127.0.0.1:${port}`
    persistTo = await mkdtemp(path.join(tmpdir(), 'tiercache-readme-'))
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TIERCACHE_PORT: String(port),
      DEMO_ORIGIN_PORT: String(originPort),
      UPSTASH_LOCAL_PORT: String(upstashPort),
      TIERCACHE_INSPECTOR_PORT: String(inspectorPort),
      TIERCACHE_PERSIST_TO: persistTo,
      REDIS_PREFIX: `t:${randomUUID().slice(0, 8)}:`,
      NO_COLOR: '1',
    }
    // What a new user has: no secrets of their own (the printed dev ones must work).
    for (const name of ['INTERNAL_TOKEN', 'PURGE_SECRET', 'UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN', 'ROUTES']) delete env[name]
    dev = spawn(process.execPath, [path.join(projectRoot, 'scripts', 'dev.ts')], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    const collect = (chunk: Buffer) => void (output += chunk.toString('utf8'))
    dev.stdout!.on('data', collect)
    dev.stderr!.on('data', collect)
    dev.once('exit', (code) => void (exited = code))
    await eventually(() => exited !== undefined || (/Ctrl-C stops everything/.test(output) && /Ready on/.test(output)), 90_000)
    if (exited !== undefined) throw new Error(`npm run dev exited (${exited}):\n${output}`)
    // Ready means listening; the first request also waits for the worker to load.
    await eventually(async () => (await fetch(`${base}/__tiercache/health`).catch(() => undefined))?.ok === true, 60_000)
  }, 180_000)

  afterAll(async () => {
    if (dev?.pid !== undefined && exited === undefined) {
      const gone = new Promise((resolve) => dev.once('exit', resolve))
      process.kill(-dev.pid, 'SIGTERM')
      await gone
    }
    if (persistTo) await rm(persistTo, { recursive: true, force: true })
  }, 60_000)

  /** The `export …` line the dev stack printed, as environment variables. */
  const printedSecrets = (): Record<string, string> => {
    const line = /export (INTERNAL_TOKEN=.*)$/m.exec(output)?.[1]
    if (!line) throw new Error(`no export line in:\n${output}`)
    return Object.fromEntries([...line.matchAll(/([A-Z_]+)='([^']*)'/g)].map((m) => [m[1]!, m[2]!]))
  }

  /** Runs commands with bash, as a user who pasted the export line would; the port is the only rewrite. */
  const run = (commands: string[]) => {
    const port = new URL(base).port
    const script = ['set -euo pipefail', ...commands.map((c) => c.replaceAll('127.0.0.1:8787', `127.0.0.1:${port}`).replace(/^curl /, 'curl --fail-with-body '))].join('\n')
    const result = spawnSync('bash', ['-c', script], {
      cwd: projectRoot,
      env: { ...process.env, ...printedSecrets(), TIERCACHE_URL: base, PATH: `${path.join(projectRoot, 'node_modules', '.bin')}:${process.env.PATH}` },
      encoding: 'utf8',
      timeout: 60_000,
    })
    return { code: result.status, out: `${result.stdout}${result.stderr}`, script }
  }

  it('prints the dev token, the purge secret, the stats and dashboard URLs, and they are the ones the worker uses', async () => {
    const secrets = printedSecrets()
    expect(secrets).toEqual({ INTERNAL_TOKEN: DEV_INTERNAL_TOKEN, PURGE_SECRET: DEV_PURGE_SECRET })
    expect(output).toContain(`dashboard        ${base}/__tiercache/dashboard`)
    expect(output).toContain(`${base}/__tiercache/stats`)
    const stats = await fetch(`${base}/__tiercache/stats`, { headers: { authorization: `Bearer ${secrets.INTERNAL_TOKEN}` } })
    expect(stats.status).toBe(200)
  })

  it('every curl and purge example in the README runs as written', async () => {
    const readme = await readFile(path.join(projectRoot, 'README.md'), 'utf8')
    const blocks = shellBlocks(readme).map(runnableCommands).filter((c) => c.some((l) => l.includes('127.0.0.1:8787') || l.startsWith('npm run purge')))
    // Quick start, stats (×2 blocks), per-user, purge with curl, purge CLI, warm: a README that lost them fails here.
    expect(blocks.length).toBeGreaterThanOrEqual(6)
    for (const commands of blocks) {
      const { code, out, script } = run(commands)
      expect(code, `${script}\n---\n${out}`).toBe(0)
    }
  })

  it('the purge example purges the demo item it names', async () => {
    const readme = await readFile(path.join(projectRoot, 'README.md'), 'utf8')
    await (await fetch(`${base}/items/1`)).arrayBuffer()
    const cached = await fetch(`${base}/items/1`)
    await cached.arrayBuffer()
    expect(cached.headers.get('cache-status')).toContain('hit')
    const purge = shellBlocks(readme).map(runnableCommands).find((c) => c.some((l) => l.includes('/__tiercache/purge')))!
    const purged = run(purge)
    expect(purged.code).toBe(0)
    expect(JSON.parse(purged.out)).toMatchObject({ duplicate: false, redis: { status: 'committed' }, scope: { urls: 1, tags: 1 } })
    const after = await fetch(`${base}/items/1`)
    await after.arrayBuffer()
    expect(after.headers.get('cache-status')).not.toMatch(/; hit/)
  })

  it('the ready-to-paste commands it printed run too', () => {
    const printed = output.split('\n')
    const from = printed.findIndex((l) => l.startsWith('Ready to paste'))
    const rest = printed.slice(from + 1)
    const end = rest.findIndex((l) => !l.startsWith('  '))
    const commands = rest.slice(0, end < 0 ? undefined : end).map((l) => l.trim())
    expect(commands.some((c) => c.startsWith('npm run purge'))).toBe(true)
    const { code, out, script } = run(commands.filter((c) => !c.startsWith('export ')))
    expect(code, `${script}\n---\n${out}`).toBe(0)
    expect(out).toMatch(/"warmed":\d+/)
  })
})
