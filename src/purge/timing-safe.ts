/**
 * @module Constant-time comparison of secrets, so response timing does not reveal how many leading
 * characters of a guess were right.
 */
const encoder = new TextEncoder()

/** True when `a` and `b` are equal; the time taken depends only on their lengths. */
export function timingSafeEqualText(a: string, b: string): boolean {
  const x = encoder.encode(a)
  const y = encoder.encode(b)
  let diff = x.length ^ y.length
  const length = Math.max(x.length, y.length)
  for (let i = 0; i < length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0)
  return diff === 0
}
