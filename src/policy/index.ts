/**
 * @module The RFC 9111 policy layer: pure functions over `Headers`, `URL` and injected times that
 * decide what a shared cache may store, for how long, under which key, and when it must revalidate or
 * invalidate. No I/O, no clock, no platform bindings.
 */
export {
  DEFAULT_CACHE_TARGETS,
  MAX_DELTA_SECONDS,
  deltaSeconds,
  fieldNames,
  parseCacheControl,
  parseDeltaSeconds,
  parseRequestDirectives,
  selectTargetedDirectives,
} from './cache-control.ts'
export type { Directives } from './cache-control.ts'
export {
  DEFAULT_CACHEABLE_STATUSES,
  HEURISTICALLY_CACHEABLE_STATUSES,
  UNDERSTOOD_STATUSES,
  isErrorStatus,
  isStorableStatus,
} from './status.ts'
export { NotStorableReason, UNSTORED_HEADERS, connectionListed, isStorable } from './storable.ts'
export type { StorabilityInput, StorabilityResult } from './storable.ts'
export {
  DEFAULT_HEURISTIC_FRACTION,
  DEFAULT_HEURISTIC_MAX_MS,
  FreshnessSource,
  freshnessLifetime,
  isFresh,
} from './freshness.ts'
export type { FreshnessInput, FreshnessOptions } from './freshness.ts'
export { ageHeaderValue, correctedInitialAge, currentAge, parseAge } from './age.ts'
export type { AgeInput } from './age.ts'
export { requestAllowsCached, staleWindows } from './stale.ts'
export type { CachedCandidate, StaleWindows } from './stale.ts'
export {
  ABSENT_HEADER,
  DEFAULT_ENCODINGS,
  normaliseRequestHeader,
  parseVary,
  variantKeyMaterial,
  variantKeySuffix,
} from './vary.ts'
export type { VaryOptions } from './vary.ts'
export {
  UNKEYED_REQUEST_HEADERS,
  cacheKey,
  normaliseQuery,
  normaliseUrl,
  stripUnkeyedHeaders,
} from './key.ts'
export type { KeyOptions } from './key.ts'
export {
  RETAINED_304_HEADERS,
  buildNotModified,
  evaluateConditional,
  mergeNotModified,
  notModifiedApplies,
  revalidationHeaders,
  strongMatch,
  weakMatch,
} from './conditional.ts'
export type { StoredValidators } from './conditional.ts'
export { SAFE_METHODS, invalidationTargets } from './invalidation.ts'
export { formatHttpDate, parseHttpDate } from './http-date.ts'
