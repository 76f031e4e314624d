/**
 * The worker under `wrangler dev` itself, not only under Miniflare: wrangler puts a proxy worker in
 * front of the user worker, and that proxy turned a connection the user worker dropped into a fatal
 * "Network connection lost" — `wrangler dev` exited after answering a 70 KB chunked purge body whose
 * reader was cancelled (src/purge/read-bounded.ts). Plain Miniflare survives that, so only this test
 * can see it. It starts the real CLI the way `npm run dev` does (scripts/dev.ts), on free ports, against
 * this suite's local Redis server and demo origin, and stops only the process it started.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { projectRoot } from '../../scripts/build-worker.ts'
import { freePort } from '../scripts/upstash-local/helpers.ts'
import { eventually, startStack, TEST_PURGE_SECRET, TEST_TOKEN, type Stack } from '../support/stack.ts'
import { rawPost } from '../support/raw-post.ts'
import { signPurge } from '../../src/purge/signature.ts'

/** Sends `body` (a string, or a byte count for a chunked body of `a`s) and returns status and text. */
function post(base: string, pathname: string, body: string | number, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const chunked = typeof body === 'number'
  return rawPost(new URL(pathname, base), { 'content-type': 'application/json', ...(chunked ? { 'transfer-encoding': 'chunked' } : {}), ...headers }, (req) => {
    if (chunked) {
      const chunk = Buffer.alloc(8 * 1024, 'a')
      for (let sent = 0; sent < body; sent += chunk.length) req.write(chunk.subarray(0, Math.min(chunk.length, body - sent)))
      req.end()
    } else req.end(body)
  })
}

const getStatus = (base: string, pathname: string): Promise<number> =>
  new Promise((resolve) => {
    http
      .get(new URL(pathname, base), (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      .on('error', () => resolve(0))
  })

describe('under wrangler dev', () => {
  let stack: Stack
  let wrangler: ChildProcess
  let base: string
  let persistTo: string
  let output = ''
  let exited: number | null | undefined

  beforeAll(async () => {
    stack = await startStack({ workers: 0 })
    persistTo = await mkdtemp(path.join(tmpdir(), 'tiercache-wrangler-'))
    const port = await freePort()
    const inspectorPort = await freePort()
    base = `http://127.0.0.1:${port}`
    const vars = {
      ORIGIN_URL: stack.origin.url,
      UPSTASH_REDIS_REST_URL: stack.upstash.url,
      UPSTASH_REDIS_REST_TOKEN: TEST_TOKEN,
      REDIS_PREFIX: stack.prefix,
      REDIS_TIMEOUT_MS: '2000',
      PURGE_SECRET: TEST_PURGE_SECRET,
    }
    const args = [path.join(projectRoot, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'dev', '--ip', '127.0.0.1', '--port', String(port)]
    args.push('--inspector-port', String(inspectorPort), '--persist-to', persistTo, '--show-interactive-dev-session=false')
    for (const [key, value] of Object.entries(vars)) args.push('--var', `${key}:${value}`)
    wrangler = spawn(process.execPath, args, {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_SEND_ERROR_REPORTS: 'false', NO_COLOR: '1' },
      // Its own process group, so workerd goes down with it.
      detached: true,
    })
    const collect = (chunk: Buffer) => void (output += chunk.toString('utf8'))
    wrangler.stdout!.on('data', collect)
    wrangler.stderr!.on('data', collect)
    wrangler.once('exit', (code) => void (exited = code))
    await eventually(() => exited !== undefined || /Ready on/.test(output), 50_000)
    if (exited !== undefined) throw new Error(`wrangler dev exited (${exited}) before it was ready:\n${output}`)
    await eventually(async () => (await getStatus(base, '/__tiercache/health')) === 200, 20_000)
  }, 90_000)

  afterAll(async () => {
    if (wrangler?.pid !== undefined && exited === undefined) {
      const gone = new Promise<void>((resolve) => wrangler.once('exit', () => resolve()))
      process.kill(-wrangler.pid, 'SIGTERM')
      await gone
    }
    await stack?.close()
    if (persistTo) await rm(persistTo, { recursive: true, force: true })
  }, 30_000)

  it('refuses a 70 KB chunked unsigned purge body with 413 and keeps serving', async () => {
    expect(await post(base, '/__tiercache/purge', 70_000)).toEqual({ status: 413, body: JSON.stringify({ error: 'body larger than 65536 bytes' }) })
    // wrangler logs each request once its proxy has finished it; the crash came right after that line.
    await eventually(() => /POST \/__tiercache\/purge 413/.test(output) || exited !== undefined, 10_000)
    for (let i = 0; i < 3; i++) expect(await getStatus(base, '/__tiercache/health')).toBe(200)
    const body = JSON.stringify({ tags: ['after-the-413'] })
    const signed = await post(base, '/__tiercache/purge', body, { 'tiercache-signature': await signPurge(TEST_PURGE_SECRET, body) })
    expect(signed.status).toBe(200)
    await eventually(() => /POST \/__tiercache\/purge 200/.test(output) || exited !== undefined, 10_000)
    expect(exited).toBeUndefined()
    expect(output).not.toMatch(/Network connection lost|\[ERROR\]/)
  }, 60_000)
})
