/**
 * @module Purge webhook authentication: `Tiercache-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`,
 * v1 = HMAC-SHA-256(secret, `${t}.${rawBody}`) (see ./signature.ts). Any of the configured secrets may
 * match, so a secret can be rotated without downtime (design.md §4 rule 5). Timestamps outside the
 * tolerance are refused so a captured request cannot be replayed later; inside the window the purge id
 * (or, without one, {@link replayId} of the signed content) is remembered to stop replays.
 */
import { computeSignature, toHex } from './signature.ts'
import { timingSafeEqualText } from './timing-safe.ts'

/** Accepted clock difference between the sender and the worker. */
export const SIGNATURE_TOLERANCE_SECONDS = 300

/** Longest `Tiercache-Signature` header accepted, in characters; a longer one is unsigned. */
export const MAX_SIGNATURE_HEADER_LENGTH = 4096

/**
 * Most `v1` values one header may carry. A rotation needs two (old and new secret); a header with many
 * more is not from a sender we know, and every extra value is one more guess compared per request.
 */
export const MAX_SIGNATURES = 4

/** A parsed `Tiercache-Signature` header. */
export interface ParsedSignature {
  timestamp: number
  signatures: string[]
}

/** A header that verified: what was signed, and the offered value that matched. */
export interface VerifiedSignature {
  timestamp: number
  /** The `v1` value that matched one of the secrets (lower-case hex). */
  signature: string
}

/** Parses the header; undefined when it is missing, malformed, too long or carries too many `v1` values. */
export function parseSignatureHeader(header: string | null): ParsedSignature | undefined {
  if (!header || header.length > MAX_SIGNATURE_HEADER_LENGTH) return undefined
  let timestamp: number | undefined
  let offered = 0
  const signatures: string[] = []
  for (const part of header.split(',')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (name === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value)
    else if (name === 'v1') {
      // Malformed values count too: the limit is on what the sender offered, not on what parsed.
      if (++offered > MAX_SIGNATURES) return undefined
      if (/^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase())
    }
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures }
}

/**
 * Checks that the header carries a valid signature of `body` by one of `secrets`, made within the
 * tolerance of `nowSeconds`; undefined when it does not. Every secret and every offered signature is
 * compared, in constant time.
 */
export async function verifySignature(
  header: string | null,
  body: string,
  secrets: readonly string[],
  nowSeconds: number,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS
): Promise<VerifiedSignature | undefined> {
  const parsed = parseSignatureHeader(header)
  if (!parsed || secrets.length === 0) return undefined
  if (Math.abs(nowSeconds - parsed.timestamp) > toleranceSeconds) return undefined
  let matched: string | undefined
  for (const secret of secrets) {
    const expected = await computeSignature(secret, parsed.timestamp, body)
    for (const offered of parsed.signatures) if (timingSafeEqualText(offered, expected)) matched ??= offered
  }
  return matched === undefined ? undefined : { timestamp: parsed.timestamp, signature: matched }
}

/**
 * The replay-guard id of a purge request that has no `id` of its own: `sig-` + hex SHA-256 of
 * `${timestamp}.${body}`, the exact content the signature covers. Call it only after
 * {@link verifySignature} succeeded.
 *
 * Why not the header text: `v1` values that did not verify are attacker-chosen, so an id taken from
 * them lets a captured request be replayed under a fresh id (`t=T,v1=<random>,v1=<real>`). Why not the
 * matching `v1` either: a request signed during a rotation carries a valid `v1` per secret, and each
 * could be sent alone as a "different" request. The signed content is the same however it is presented.
 * The price: an origin that sends the same body twice within one second must give each call an `id`.
 */
export async function replayId(signed: VerifiedSignature, body: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${signed.timestamp}.${body}`))
  return `sig-${toHex(digest)}`
}
