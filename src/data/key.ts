/**
 * @module The data key space. Data values share the tiers with HTTP entries, so their keys must never
 * collide: every HTTP key (and every key derived from one: variants `|v=`, identities `|u=`) starts with
 * the normalised request URL, `http://` or `https://` (src/policy/key.ts `cacheKey`), and every data key
 * starts with `data:`, a scheme no HTTP key can have. Redis's own bookkeeping keys (`lease:`, `hfm:`,
 * `plog`, `idx:`, `cf:`, `health-probe`) start with neither.
 *
 * Layout: `data:<namespace path>:<key>`, the namespace path being `/`-joined names of `[A-Za-z0-9_.-]`
 * (no `:`), so the first `:` after the scheme ends it and two different (namespace, key) pairs never give
 * one string. In the key, `%` and `|` are percent-encoded: `|` ends a key's URL part for the purge
 * machinery (src/coherence/purge-record.ts `urlOfKey`), and encoding `%` too keeps the mapping one-to-one.
 */

/** What every data key starts with. */
export const DATA_KEY_SCHEME = 'data:'

/** Longest key accepted, in characters (Redis keys and edge URLs stay well within their limits). */
export const MAX_KEY_LENGTH = 1024

/** Namespace names: they become part of keys and of the namespace's purge tag. */
const NAMESPACE_NAME = /^[A-Za-z0-9_.-]{1,64}$/

/** Tags as the purge webhook accepts them (src/purge/payload.ts): printable ASCII, no comma or space. */
const TAG = /^[\x21-\x2b\x2d-\x7e]{1,1024}$/

/** The purge tag every entry of a namespace carries, so clearing it is one purge by tag. */
export const namespaceTag = (path: readonly string[]): string => `tiercache-ns:${path.join('/')}`

/** Checks a user's key. @throws {TypeError} saying what to pass instead */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string') {
    throw new TypeError(`tiercache data key must be a string, got ${key === null ? 'null' : typeof key}: build one, e.g. \`user:\${id}\``)
  }
  if (key.length === 0) throw new TypeError('tiercache data key is empty: pass a non-empty string such as "user:42"')
  if (key.length > MAX_KEY_LENGTH) {
    throw new TypeError(`tiercache data key is ${key.length} characters long (at most ${MAX_KEY_LENGTH}): hash long inputs into the key instead`)
  }
  return key
}

/** Checks a namespace name. @throws {TypeError} */
export function checkNamespace(name: unknown): string {
  if (typeof name !== 'string' || !NAMESPACE_NAME.test(name)) {
    throw new TypeError(`tiercache namespace must be 1–64 characters of A–Z, a–z, 0–9, "_", "." or "-", got ${JSON.stringify(name)}: e.g. cache.namespace('users')`)
  }
  return name
}

/** Checks purge tags. @throws {TypeError} naming the bad tag and the rule */
export function checkTags(tags: unknown, where = 'tags'): string[] {
  if (!Array.isArray(tags)) throw new TypeError(`tiercache ${where} must be an array of strings, e.g. { tags: ['users'] }`)
  for (const tag of tags) {
    if (typeof tag !== 'string' || !TAG.test(tag)) {
      const hint = typeof tag === 'string' && tag.includes(',') ? `: give one tag per array item, e.g. ${JSON.stringify(tag.split(',').map((t) => t.trim()).filter(Boolean))}` : ''
      throw new TypeError(`tiercache tag ${JSON.stringify(tag)} is not a tag: 1–1024 printable ASCII characters without commas or spaces${hint}`)
    }
  }
  return tags as string[]
}

/** The tier key of `key` in the namespace `path`. */
export function dataKey(path: readonly string[], key: string): string {
  const escaped = key.includes('%') || key.includes('|') ? key.replace(/%/g, '%25').replace(/\|/g, '%7C') : key
  return `${DATA_KEY_SCHEME}${path.length === 0 ? '' : path.join('/')}:${escaped}`
}
