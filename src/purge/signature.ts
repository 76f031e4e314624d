/**
 * @module Purge webhook signatures.
 *
 * Scheme (Stripe/GitHub style): the sender computes
 *   v1 = hex(HMAC-SHA-256(secret, `${timestamp}.${rawBody}`))
 * and sends `Tiercache-Signature: t=<unix seconds>,v1=<hex>`. The receiver recomputes the MAC over the
 * exact bytes it received, compares in constant time, and rejects timestamps outside a tolerance window
 * so a captured request cannot be replayed later.
 */

/** Name of the request header that carries the signature. */
export const SIGNATURE_HEADER = 'Tiercache-Signature'

const encoder = new TextEncoder()

/** Lower-case hex of `bytes`. */
export const toHex = (bytes: ArrayBuffer): string =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('')

const importKey = (secret: string): Promise<CryptoKey> =>
  crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ])

/** Hex HMAC-SHA-256 of `${timestamp}.${body}` under `secret`. */
export async function computeSignature(secret: string, timestamp: number, body: string): Promise<string> {
  const key = await importKey(secret)
  return toHex(await crypto.subtle.sign('HMAC', key, encoder.encode(`${timestamp}.${body}`)))
}

/**
 * Builds the `Tiercache-Signature` header value for `body`.
 *
 * @example
 * const body = JSON.stringify({ tags: ['product-42'] })
 * await fetch(`${edge}/__tiercache/purge`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json', 'tiercache-signature': await signPurge(secret, body) },
 *   body,
 * })
 */
export async function signPurge(secret: string, body: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<string> {
  return `t=${nowSeconds},v1=${await computeSignature(secret, nowSeconds, body)}`
}
