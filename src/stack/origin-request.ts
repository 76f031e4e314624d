/**
 * @module The request the stack sends to the origin for a GET/HEAD it may store: exactly the URL the key
 * names, the client's own conditionals removed (a fill needs a full response), ours added when a stale
 * copy can be revalidated (RFC 9111 §4.3.1).
 */
import { entryHeader, type CacheEntry } from '../entry.ts'
import { revalidationHeaders } from '../policy/conditional.ts'
import { cacheKey } from '../policy/key.ts'
import type { StackContext } from './context.ts'

/** Client preconditions: answered by tiercache from the stored response, never forwarded on a fill. */
const CLIENT_CONDITIONALS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range']

export function originRequest(context: StackContext, request: Request, stale: CacheEntry | undefined): Request {
  // Fetch exactly what the key names: a parameter left out of the key (utm_*) must not reach an origin
  // that could reflect it into a body stored under the clean key (cache poisoning).
  // The key's URL string is the normalised URL's href (policy/key.ts).
  const url = cacheKey(new URL(request.url), { ignoreQueryParams: context.options.ignoreQueryParams })
  const headers = new Headers(request.headers)
  for (const name of CLIENT_CONDITIONALS) headers.delete(name)
  if (stale) {
    const validators = revalidationHeaders({ etag: entryHeader(stale, 'etag'), lastModified: entryHeader(stale, 'last-modified') })
    validators.forEach((value, name) => headers.set(name, value))
  }
  return new Request(url, { method: request.method === 'HEAD' ? 'HEAD' : 'GET', headers, redirect: 'manual' })
}
