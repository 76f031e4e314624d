/**
 * @module Purge webhook authentication: `Tiercache-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`,
 * v1 = HMAC-SHA-256(secret, `${t}.${rawBody}`) (see ./signature.ts). Any of the configured secrets may
 * match, so a secret can be rotated without downtime (design.md §4 rule 5). Timestamps outside the
 * tolerance are refused so a captured request cannot be replayed later; the purge id (or, without
 * one, the signature itself) is remembered for the window to stop replays inside it.
 */
import { computeSignature } from './signature.ts'
import { timingSafeEqualText } from './timing-safe.ts'

/** Accepted clock difference between the sender and the worker. */
export const SIGNATURE_TOLERANCE_SECONDS = 300

/** A parsed `Tiercache-Signature` header. */
export interface ParsedSignature {
  timestamp: number
  signatures: string[]
}

/** Parses the header; undefined when it is missing or malformed. */
export function parseSignatureHeader(header: string | null): ParsedSignature | undefined {
  if (!header || header.length > 4096) return undefined
  let timestamp: number | undefined
  const signatures: string[] = []
  for (const part of header.split(',')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (name === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value)
    else if (name === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase())
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures }
}

/**
 * True when the header carries a valid signature of `body` by one of `secrets`, made within the
 * tolerance of `nowSeconds`. Every secret and every offered signature is compared, in constant time.
 */
export async function verifySignature(
  header: string | null,
  body: string,
  secrets: readonly string[],
  nowSeconds: number,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS
): Promise<boolean> {
  const parsed = parseSignatureHeader(header)
  if (!parsed || secrets.length === 0) return false
  if (Math.abs(nowSeconds - parsed.timestamp) > toleranceSeconds) return false
  let ok = false
  for (const secret of secrets) {
    const expected = await computeSignature(secret, parsed.timestamp, body)
    for (const offered of parsed.signatures) ok = timingSafeEqualText(offered, expected) || ok
  }
  return ok
}
