/**
 * @module The purge request body: a strict schema with precise error messages.
 *
 * `{ urls?, tags?, prefixes?, users?, everything?, soft?, id? }` — at least one scope. `users` are per-user
 * identity hashes (src/routes.ts `identityHash`): every cached copy of those users is purged. URLs and prefixes are
 * absolute http(s) URLs or paths (resolved against the webhook's own origin); tags are what origins
 * send in `Cache-Tag` / `Surrogate-Key` (printable ASCII, no comma or space, ≤ 1,024 characters, as
 * Cloudflare accepts them). Unknown fields are an error, not ignored: a typo must not purge nothing.
 */
import { parseJsonObject } from '../json-body.ts'


/** A validated purge request. */
export interface PurgeRequest {
  urls: string[]
  tags: string[]
  prefixes: string[]
  /** Identity hashes whose per-user entries are purged. */
  users: string[]
  everything: boolean
  soft: boolean
  id: string | undefined
}

/** Most items per list in one purge request. */
export const MAX_ITEMS = 1000
const FIELDS = new Set(['urls', 'tags', 'prefixes', 'users', 'everything', 'soft', 'id'])
/** An identity hash: 22 base64url characters (128 bits of SHA-256). */
const USER = /^[A-Za-z0-9_-]{22}$/
const TAG = /^[\x21-\x2b\x2d-\x7e]{1,1024}$/
const ID = /^[A-Za-z0-9._:-]{1,128}$/

type Result = { ok: true; value: PurgeRequest } | { ok: false; error: string }

const stringList = (body: Record<string, unknown>, field: string, check: (s: string) => string | undefined): string[] | string => {
  const value = body[field]
  if (value === undefined) return []
  if (!Array.isArray(value)) return `"${field}" must be an array of strings`
  if (value.length > MAX_ITEMS) return `"${field}" has ${value.length} items; at most ${MAX_ITEMS} are allowed`
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i]
    if (typeof item !== 'string') return `"${field}[${i}]" must be a string`
    const problem = check(item)
    if (problem) return `"${field}[${i}]" ${problem}`
  }
  return value as string[]
}

const urlOrPath = (s: string): string | undefined => {
  if (s.length === 0 || s.length > 8192) return 'must be a path or an absolute URL of at most 8192 characters'
  if (s.startsWith('/')) return s.startsWith('//') ? 'must not start with "//"' : undefined
  try {
    const u = new URL(s)
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : 'must use http or https'
  } catch {
    return 'must be a path starting with "/" or an absolute http(s) URL'
  }
}

/** Parses and validates a purge body (the raw text, already size-checked). */
export function parsePurgeBody(text: string): Result {
  const parsed = parseJsonObject(text, FIELDS)
  if (!parsed.ok) return parsed
  const record = parsed.value
  const urls = stringList(record, 'urls', urlOrPath)
  if (typeof urls === 'string') return { ok: false, error: urls }
  const prefixes = stringList(record, 'prefixes', urlOrPath)
  if (typeof prefixes === 'string') return { ok: false, error: prefixes }
  const tags = stringList(record, 'tags', (t) => (TAG.test(t) ? undefined : 'must be 1–1024 printable ASCII characters without commas or spaces'))
  if (typeof tags === 'string') return { ok: false, error: tags }
  const users = stringList(record, 'users', (u) => (USER.test(u) ? undefined : 'must be an identity hash: 22 base64url characters'))
  if (typeof users === 'string') return { ok: false, error: users }
  for (const flag of ['everything', 'soft'] as const) {
    if (record[flag] !== undefined && typeof record[flag] !== 'boolean') return { ok: false, error: `"${flag}" must be a boolean` }
  }
  const id = record.id
  if (id !== undefined && (typeof id !== 'string' || !ID.test(id))) {
    return { ok: false, error: '"id" must be 1–128 characters of A-Z a-z 0-9 . _ : -' }
  }
  const everything = record.everything === true
  if (!everything && urls.length + prefixes.length + tags.length + users.length === 0) {
    return { ok: false, error: 'nothing to purge: give "urls", "tags", "prefixes", "users" or "everything": true' }
  }
  return { ok: true, value: { urls, tags, prefixes, users, everything, soft: record.soft === true, id: id as string | undefined } }
}
