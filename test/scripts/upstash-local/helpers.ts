/**
 * Shared fixtures for the upstash-local suites: a server per test file on a free port, unique key
 * prefixes (files run in parallel against the shared redis-server, which is never flushed), and a
 * raw `fetch` wrapper for wire-level checks of reference `upstash-and-workers.md` §7.
 */
import { randomUUID } from 'node:crypto'
import net from 'node:net'
import { startUpstashLocal } from '../../../scripts/upstash-local/server.ts'
import type { UpstashLocal, UpstashLocalOptions } from '../../../scripts/upstash-local/server.ts'

/**
 * Fixed read-only token: the server derives its ACL user from it, so every suite shares one user on
 * the shared redis-server instead of leaving one behind per run.
 */
export const READ_ONLY_TOKEN = 'upstash-local-test-read-only'

/** Starts a server with a random standard token and the shared read-only token. */
export function startTestServer(options: Partial<UpstashLocalOptions> = {}): Promise<UpstashLocal> {
  return startUpstashLocal({ port: 0, token: `test-${randomUUID()}`, readOnlyToken: READ_ONLY_TOKEN, ...options })
}

/** A key prefix no other test (or test file) uses. */
export function uniquePrefix(): string {
  return `upstash-local-test:${randomUUID().slice(0, 8)}:`
}

export type Call = {
  /** JSON-serialised unless it is already a string. */
  body?: unknown
  method?: string
  /** `null` sends no Authorization header; default is the server's standard token. */
  token?: string | null
  base64?: boolean
  headers?: Record<string, string>
}

export type Answer = { status: number; text: string; json: unknown; headers: Headers }

/** Sends one raw HTTP request to `server.url + path` and parses the JSON answer if there is one. */
export async function call(server: UpstashLocal, path: string, options: Call = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers }
  const token = options.token === undefined ? server.token : options.token
  if (token !== null) headers.authorization = `Bearer ${token}`
  if (options.base64 === true) headers['upstash-encoding'] = 'base64'
  const { body } = options
  const response = await fetch(`${server.url}${path}`, {
    method: options.method ?? 'POST',
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, text, json, headers: response.headers }
}

/** Deletes every key under `prefix` through the server (SCAN + DEL), leaving other suites' keys alone. */
export async function deleteKeys(server: UpstashLocal, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const { json } = await call(server, '/', { body: ['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000] })
    const [next, keys] = (json as { result: [string, string[]] }).result
    if (keys.length > 0) await call(server, '/', { body: ['DEL', ...keys] })
    cursor = next
  } while (cursor !== '0')
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
