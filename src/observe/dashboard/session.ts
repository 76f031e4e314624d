/**
 * @module The dashboard's sign-in cookie: the operator enters `INTERNAL_TOKEN` once, and the browser then
 * carries a cookie the internal JSON routes accept in place of `Authorization: Bearer`.
 *
 * The cookie never holds the token: its value is `<expiry>.<HMAC-SHA-256(token, label + expiry)>`, so a
 * leaked cookie gives access until it expires (at most {@link SESSION_SECONDS}) and reveals nothing that
 * would sign another; rotating the token ends every session at once. It is `HttpOnly` (no script reads
 * it), `SameSite=Strict` (no cross-site request carries it, the CSRF defence for what it unlocks: GETs of
 * stats; RFC 6265bis §5.4.7) and scoped to the internal prefix. `Secure` is left out only for plain http
 * on a loopback host (`wrangler dev`, tests), where there is no TLS to require; everywhere else it is set.
 */
import { bytesToBase64Url } from '../../codec.ts'
import { timingSafeEqualText } from '../../purge/timing-safe.ts'

/** Cookie name. Not `__Host-` (that prefix demands `Path=/`) nor `__Secure-` (loopback http has no TLS). */
export const SESSION_COOKIE = 'tiercache_session'
/** How long a sign-in lasts: 12 hours. */
export const SESSION_SECONDS = 12 * 60 * 60
/** What the MAC covers besides the expiry, so the value cannot be confused with another use of the token. */
const LABEL = 'tiercache-dashboard-session:'

const encoder = new TextEncoder()
const keys = new Map<string, Promise<CryptoKey>>()

/** The HMAC key for `token`, imported once per isolate (a worker has one token; rotation adds one more). */
function keyFor(token: string): Promise<CryptoKey> {
  let key = keys.get(token)
  if (!key) {
    if (keys.size >= 4) keys.clear()
    key = crypto.subtle.importKey('raw', encoder.encode(token), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    keys.set(token, key)
  }
  return key
}

async function mac(token: string, expiry: number): Promise<string> {
  return bytesToBase64Url(new Uint8Array(await crypto.subtle.sign('HMAC', await keyFor(token), encoder.encode(LABEL + expiry))))
}

/** A session value for `token`, valid until `nowMs` + {@link SESSION_SECONDS}. */
export async function issueSession(token: string, nowMs: number): Promise<string> {
  const expiry = Math.floor(nowMs / 1000) + SESSION_SECONDS
  return `${expiry}.${await mac(token, expiry)}`
}

/** Whether `value` is a session issued for `token` that has not expired at `nowMs`. */
export async function verifySession(value: string | undefined, token: string, nowMs: number): Promise<boolean> {
  const match = value ? /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value) : null
  if (!match || !token) return false
  const expiry = Number(match[1])
  const now = Math.floor(nowMs / 1000)
  if (expiry <= now || expiry > now + SESSION_SECONDS) return false
  return timingSafeEqualText(match[2]!, await mac(token, expiry))
}

/** The value of cookie `name` in a `Cookie` header (RFC 6265 §5.4), or undefined. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim()
  }
  return undefined
}

/** Plain http to a loopback host: the only place the cookie goes without `Secure`. */
export function isLoopbackHttp(url: URL): boolean {
  if (url.protocol !== 'http:') return false
  const host = url.hostname
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]'
}

/** The `Set-Cookie` value that signs in (`value`) or, with `value` undefined, signs out. */
export function sessionCookie(value: string | undefined, path: string, url: URL): string {
  const attributes = [`${SESSION_COOKIE}=${value ?? ''}`, `Path=${path}`, `Max-Age=${value ? SESSION_SECONDS : 0}`, 'HttpOnly', 'SameSite=Strict']
  if (!isLoopbackHttp(url)) attributes.push('Secure')
  return attributes.join('; ')
}

/** Whether `request` carries a valid session cookie for `token`. */
export function hasSession(request: Request, token: string | undefined, nowMs: number): Promise<boolean> {
  if (!token) return Promise.resolve(false)
  return verifySession(readCookie(request.headers.get('cookie'), SESSION_COOKIE), token, nowMs)
}
