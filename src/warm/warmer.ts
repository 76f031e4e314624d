/**
 * @module The warmer: turns a warm request (a list, a sitemap, the hot set) into URLs and runs them
 * (./run.ts) with the run's budget and concurrency. The signed `POST <internal prefix>/warm` route
 * (./route.ts) and the cron trigger (src/worker.ts) both call it.
 */
import { MAX_WARM_URLS, sameHostUrl, type WarmRequest } from './request.ts'
import { sitemapUrls } from './sitemap.ts'
import { warm, WarmRuns, type WarmDeps, type WarmReceipt } from './run.ts'

/** Warming limits (`WARM_BUDGET`, `WARM_CONCURRENCY`). */
export interface WarmLimits {
  /** Most origin fetches one run may cause; a request's `budget` may only lower it. @default 100 */
  budget: number
  /** URLs in flight at once; a request's `concurrency` may only lower it. @default 4 */
  concurrency: number
}

export interface WarmerDeps extends Omit<WarmDeps, 'serve'> {
  /** Fetches a URL's path from the origin directly (the sitemap is read this way, uncached). */
  fromOrigin(url: string): Promise<Response>
  /** The hottest keys (cache keys are absolute URLs), hottest first. */
  hot(limit: number): Promise<string[]>
}

/** Why a run could not start: the caller's input (400) or the origin (502). */
export class WarmSourceError extends Error {
  override readonly name = 'WarmSourceError'
  readonly status: 400 | 502
  constructor(message: string, status: 400 | 502) {
    super(message)
    this.status = status
  }
}

export class Warmer {
  readonly runs = new WarmRuns()
  readonly #limits: WarmLimits
  readonly #deps: WarmerDeps

  constructor(limits: WarmLimits, deps: WarmerDeps) {
    this.#limits = limits
    this.#deps = deps
  }

  /**
   * Runs one warm request against `base` (the host warmed), sending each URL through `serve`.
   * @throws {WarmSourceError} when the sitemap cannot be read
   */
  async run(request: WarmRequest, base: URL, trigger: WarmReceipt['trigger'], serve: WarmDeps['serve']): Promise<WarmReceipt> {
    const urls = await this.#urls(request, base)
    const run = this.runs.start({
      startedAt: this.#deps.now(),
      source: request.source.kind,
      trigger,
      urls: urls.length,
      budget: Math.min(request.budget ?? this.#limits.budget, this.#limits.budget),
      concurrency: Math.min(request.concurrency ?? this.#limits.concurrency, this.#limits.concurrency),
      warmed: 0,
      alreadyFresh: 0,
      failed: 0,
      skippedOverBudget: 0,
      failures: [],
    })
    try {
      return await warm(urls, run, { ...this.#deps, serve })
    } finally {
      this.runs.finish(run, this.#deps.now())
    }
  }

  async #urls(request: WarmRequest, base: URL): Promise<string[]> {
    const { source } = request
    if (source.kind === 'list') return source.urls
    if (source.kind === 'hot') return this.#deps.hot(source.limit)
    let listed
    try {
      listed = await sitemapUrls(source.url, (url) => this.#deps.fromOrigin(url), MAX_WARM_URLS)
    } catch (error) {
      throw new WarmSourceError(`sitemap ${source.url} could not be read: ${(error as Error).message}`, 502)
    }
    if (!listed.ok) throw new WarmSourceError(listed.error, /answered 5\d\d/.test(listed.error) ? 502 : 400)
    // The origin may name itself by another host than the public one: its paths are warmed on this host.
    const urls = new Set<string>()
    for (const loc of listed.urls) {
      let path: string
      try {
        const url = new URL(loc, base)
        path = url.pathname + url.search
      } catch {
        continue
      }
      const url = sameHostUrl(path, base)
      if (url.ok) urls.add(url.value)
    }
    return [...urls]
  }
}
