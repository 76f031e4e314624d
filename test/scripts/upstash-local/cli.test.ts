/** The command line: option validation, environment fallbacks, start-up banner and clean shutdown. */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { optionsFromCli } from '../../../scripts/upstash-local/main.ts'
import { UpstashLocalConfigError, resolveOptions } from '../../../scripts/upstash-local/options.ts'

const MAIN = fileURLToPath(new URL('../../../scripts/upstash-local/main.ts', import.meta.url))

describe('optionsFromCli', () => {
  it('reads flags, and falls back to UPSTASH_LOCAL_* environment variables', () => {
    expect(optionsFromCli(['--port', '8080', '--token', 't', '--redis', '127.0.0.1:6380', '--db', '3'], {})).toMatchObject({
      port: 8080,
      token: 't',
      redisHost: '127.0.0.1',
      redisPort: 6380,
      db: 3,
    })
    expect(optionsFromCli([], { UPSTASH_LOCAL_PORT: '9000', UPSTASH_LOCAL_TOKEN: 'env-token' })).toMatchObject({ port: 9000, token: 'env-token' })
    expect(optionsFromCli(['--token', 'flag'], { UPSTASH_LOCAL_TOKEN: 'env' }).token).toBe('flag')
  })

  it('accepts a redis:// URL with password and database', () => {
    const options = resolveOptions(optionsFromCli(['--token', 't', '--redis', 'redis://:secret@localhost:6390/2'], {}))
    expect(options.redis).toEqual({ host: 'localhost', port: 6390, db: 2, username: undefined, password: 'secret' })
  })

  it.each([
    [[], /token is required/],
    [['--token', 't', '--port', 'abc'], /--port must be a non-negative integer/],
    [['--token', 't', '--port', '70000'], /port must be an integer from 0 to 65535/],
    [['--token', 't', '--db', '-1'], /--db/],
    [['--token', 't', '--redis', 'http://x'], /redisUrl must use redis:\/\//],
    [['--token', 't', '--bogus'], /Unknown option '--bogus'/],
    [['--token', 't', '--read-only-token', 't'], /readOnlyToken must differ from token/],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => resolveOptions(optionsFromCli(argv, {}))).toThrow(UpstashLocalConfigError)
    expect(() => resolveOptions(optionsFromCli(argv, {}))).toThrow(message)
  })
})

describe('node scripts/upstash-local/main.ts', () => {
  it('prints its URL, serves requests, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN, '--port', '0', '--token', 'cli-token'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    let stdout = ''
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        const match = /listening on (http:\/\/\S+)/.exec(stdout)
        if (match?.[1] !== undefined) resolve(match[1])
      })
      child.once('exit', () => reject(new Error(`exited early: ${stdout}`)))
    })
    const response = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer cli-token' }, body: '["PING"]' })
    expect(await response.json()).toEqual({ result: 'PONG' })
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  it('exits 2 with the reason and usage on invalid options', async () => {
    const child = spawn(process.execPath, [MAIN, '--port', 'nope', '--token', 't'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code).toBe(2)
    expect(stderr).toMatch(/--port must be a non-negative integer/)
    expect(stderr).toMatch(/Usage:/)
  })
})
