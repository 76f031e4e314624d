import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { DEFAULT_PORT, parseCliArgs, UsageError } from '../../../scripts/demo-origin/main.ts'

const MAIN = fileURLToPath(new URL('../../../scripts/demo-origin/main.ts', import.meta.url))

describe('CLI arguments', () => {
  it('defaults to port 8788 on 127.0.0.1 with the webhook off', () => {
    expect(parseCliArgs([], {})).toEqual({ port: DEFAULT_PORT, host: '127.0.0.1' })
  })

  it('reads flags, with environment fallbacks', () => {
    expect(parseCliArgs(['--port', '0', '--latency-ms', '80'], {})).toEqual({ port: 0, host: '127.0.0.1', latencyMs: 80 })
    expect(parseCliArgs([], { DEMO_ORIGIN_PORT: '9000', PURGE_URL: 'http://127.0.0.1:8787/p', PURGE_SECRET: 's' })).toEqual({
      port: 9000,
      host: '127.0.0.1',
      purgeUrl: 'http://127.0.0.1:8787/p',
      purgeSecret: 's',
    })
    expect(parseCliArgs(['--port', '1234'], { DEMO_ORIGIN_PORT: '9000' }).port).toBe(1234)
  })

  it.each([
    [['--port', 'abc'], /--port must be a whole number/],
    [['--port', '70000'], /--port must be a whole number/],
    [['--latency-ms', '-5'], /--latency-ms/],
    [['--purge-url', 'http://x/p'], /needs --purge-secret/],
    [['--purge-secret', 's'], /needs --purge-url/],
    [['--purge-url', 'not a url', '--purge-secret', 's'], /http\(s\) URL/],
    [['--bogus'], /Unknown option/],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseCliArgs(argv, {})).toThrow(UsageError)
    expect(() => parseCliArgs(argv, {})).toThrow(message)
  })
})

describe('CLI process', () => {
  it('prints its URL, serves requests and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      let output = ''
      child.stdout.setEncoding('utf8')
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          output += chunk
          const m = /listening on (http:\/\/\S+)/.exec(output)
          if (m?.[1]) resolve(m[1])
        })
        child.once('exit', () => reject(new Error(`exited early: ${output}`)))
      })
      expect((await fetch(`${url}/public/1`)).status).toBe(200)
      child.kill('SIGTERM')
      const [code] = await once(child, 'exit')
      expect(code).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })

  it('exits 2 with a message on bad arguments', async () => {
    const child = spawn(process.execPath, [MAIN, '--port', 'nope'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const [code] = await once(child, 'exit')
    expect(code).toBe(2)
    expect(stderr).toContain('--port must be a whole number')
    expect(stderr).toContain('usage:')
  })
})
