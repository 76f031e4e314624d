import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { servedBy, startStack, TEST_PURGE_SECRET, type Stack } from '../support/stack.ts'

const run = promisify(execFile)

describe('purge CLI', () => {
  let stack: Stack
  let endpoint: string
  beforeAll(async () => {
    stack = await startStack({ vars: { ROUTES: JSON.stringify([{ pattern: '/p/', perUser: { identity: 'authorization' } }]) } })
    // The CLI speaks real HTTP, to the worker process's own listening address.
    endpoint = stack.workers[0]!.url
  })
  afterAll(() => stack.close())

  it('signs and sends a purge, prints the receipt and exits 0', async () => {
    // Requests through the listening URL carry its host, so warm through it too.
    await (await fetch(`${endpoint}/items/cli-1`)).arrayBuffer()
    expect(servedBy(await fetch(`${endpoint}/items/cli-1`))).toBe('memory')
    const { stdout } = await run(process.execPath, ['scripts/purge.ts', '--url', '/items/cli-1', '--id', 'cli-1', '--endpoint', endpoint], {
      env: { ...process.env, PURGE_SECRET: TEST_PURGE_SECRET },
    })
    expect(stdout).toMatch(/^200 /)
    expect(JSON.parse(stdout.split('\n').slice(1).join('\n'))).toMatchObject({ id: 'cli-1', redis: { status: 'committed' } })
    expect(servedBy(await fetch(`${endpoint}/items/cli-1`))).toBe('origin')
  })

  it('--user purges one user’s per-user copies by the hash of their identity, and no one else’s', async () => {
    const as = (user: string) => ({ headers: { authorization: `Bearer ${user}` } })
    for (const user of ['ann', 'ben']) {
      await (await fetch(`${endpoint}/p/private`, as(user))).arrayBuffer()
      expect(servedBy(await fetch(`${endpoint}/p/private`, as(user)))).toBe('memory')
    }
    const { stdout } = await run(process.execPath, ['scripts/purge.ts', '--user', 'Bearer ann', '--endpoint', endpoint], {
      env: { ...process.env, PURGE_SECRET: TEST_PURGE_SECRET },
    })
    expect(stdout).toMatch(/^200 /)
    expect(servedBy(await fetch(`${endpoint}/p/private`, as('ann')))).toBe('origin')
    expect(servedBy(await fetch(`${endpoint}/p/private`, as('ben')))).toBe('memory')
  })

  it('exits 1 and prints the 401 with a wrong secret', async () => {
    const error = await run(process.execPath, ['scripts/purge.ts', '--tag', 'x', '--endpoint', endpoint, '--secret', 'wrong-secret-0123456789']).catch((e) => e)
    expect(error.code).toBe(1)
    expect(error.stdout).toMatch(/^401 /)
  })

  it('exits 2 with usage on bad arguments', async () => {
    const error = await run(process.execPath, ['scripts/purge.ts', '--secret', 'x'.repeat(20)]).catch((e) => e)
    expect(error.code).toBe(2)
    expect(error.stderr).toMatch(/nothing to purge/)
  })
})
