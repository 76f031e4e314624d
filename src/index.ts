/**
 * @module tiercache: the public surface for worker authors.
 * The deployable worker is `src/worker.ts`; this barrel is for using the engine in your own Hono app.
 */
export { tieredCache, type TieredCacheMiddlewareOptions, type TieredCacheOptionsFactory } from './middleware.ts'
export { tiercacheRoutes } from './internal-mount.ts'
export type { TieredCacheOptions, RouteRule, MemoryTierOptions, EdgeTierOptions, RedisTierOptions, PerUserOptions, CohortOptions } from './options.ts'
export { identityHash } from './routes.ts'
export { signPurge, computeSignature, SIGNATURE_HEADER } from './purge/signature.ts'
export type { PurgeReceipt } from './purge/fanout.ts'
export { errors, ConfigError, OriginError, TierError, CodecError } from './errors.ts'
