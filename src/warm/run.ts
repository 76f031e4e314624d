/**
 * @module A warming run: fills the tiers for a list of URLs before users ask, without becoming the
 * stampede it prevents (the cache warm-up of the literature, made safe for a fleet).
 *
 * Each URL goes through the worker's own request path, so fills take the normal fenced way (memory, this
 * data centre's edge, Redis, with the fill lease and purge-log fencing), in two steps:
 *   1. `Cache-Control: only-if-cached` (RFC 9111 §5.2.1.7): a tier holding a fresh copy answers it, and
 *      nothing reaches the origin — counted `alreadyFresh`;
 *   2. otherwise, if the run's origin budget has a fetch left, `Cache-Control: no-cache` (§5.2.1.4: the
 *      origin is asked, a stale copy is revalidated rather than served) — `warmed` when a tier stored the
 *      answer, `failed` when not (an error, or an answer that may not be stored); with the budget spent,
 *      `skippedOverBudget`.
 * Deciding after step 1 and before step 2, in one synchronous check, keeps the budget exact: a run never
 * causes more origin fetches than its budget, whatever the concurrency. At most `concurrency` URLs are in
 * flight at once.
 */

/** Runs kept for the stats route. */
export const WARM_RUNS_KEPT = 10
/** Failures listed per receipt (all are counted). */
export const WARM_FAILURES_LISTED = 10

export type WarmSourceKind = 'list' | 'sitemap' | 'hot'

/** What a run did: the warm route's answer, and an entry of `warming.runs` in the stats JSON. */
export interface WarmReceipt {
  id: string
  startedAt: number
  finishedAt?: number
  source: WarmSourceKind
  trigger: 'request' | 'cron'
  /** URLs to warm. */
  urls: number
  /** Most origin fetches the run may cause. */
  budget: number
  concurrency: number
  warmed: number
  alreadyFresh: number
  failed: number
  skippedOverBudget: number
  /** The first failures, with why. */
  failures: Array<{ url: string; reason: string }>
}

/** How a run reaches the worker's request path, and what it reports to. */
export interface WarmDeps {
  /** Sends a request through the worker (the cache in front of the origin). */
  serve(request: Request): Promise<Response>
  now: () => number
  /** Why `url` must not be warmed (a route that bypasses the cache, a per-user route, an internal path), if so. */
  refuse?(url: string): string | undefined
  /** Adds to a counter of the stats route. */
  count(name: 'warm_warmed' | 'warm_already_fresh' | 'warm_failed' | 'warm_skipped_over_budget', by?: number): void
}

/** Whether `Cache-Status` reports a tier hit (`; hit`) or a store (`; stored`). */
const hasParam = (cacheStatus: string, param: string): boolean => new RegExp(`;\\s*${param}\\s*(;|,|$)`).test(cacheStatus)

const drain = async (response: Response): Promise<void> => {
  // Reading the body to its end lets a streamed fill (a tee into the edge) finish.
  await response.arrayBuffer().catch(() => undefined)
}

/** Keeps the recent runs of one isolate, for the stats route. */
export class WarmRuns {
  readonly runs: WarmReceipt[] = []
  running = 0
  #seq = 0

  /** Starts a receipt (kept, newest first, while the run goes on). */
  start(receipt: Omit<WarmReceipt, 'id'>): WarmReceipt {
    const run: WarmReceipt = { id: `warm-${receipt.startedAt.toString(36)}-${(++this.#seq).toString(36)}`, ...receipt }
    this.runs.unshift(run)
    this.runs.length = Math.min(this.runs.length, WARM_RUNS_KEPT)
    this.running++
    return run
  }

  finish(run: WarmReceipt, now: number): void {
    run.finishedAt = now
    this.running--
  }
}

/** Warms `urls` with at most `budget` origin fetches and `concurrency` requests in flight; fills `run` as it goes. */
export async function warm(urls: string[], run: WarmReceipt, deps: WarmDeps): Promise<WarmReceipt> {
  let next = 0
  let spent = 0
  const fail = (url: string, reason: string) => {
    run.failed++
    deps.count('warm_failed')
    if (run.failures.length < WARM_FAILURES_LISTED) run.failures.push({ url, reason })
  }
  const one = async (url: string): Promise<void> => {
    // Such a URL would reach the origin even when asked `only-if-cached`: outside the budget's reach.
    const refused = deps.refuse?.(url)
    if (refused) return fail(url, refused)
    const cached = await deps.serve(new Request(url, { headers: { 'cache-control': 'only-if-cached' } }))
    await drain(cached)
    if (cached.status !== 504 && hasParam(cached.headers.get('cache-status') ?? '', 'hit')) {
      run.alreadyFresh++
      deps.count('warm_already_fresh')
      return
    }
    if (spent >= run.budget) {
      run.skippedOverBudget++
      deps.count('warm_skipped_over_budget')
      return
    }
    spent++
    const fetched = await deps.serve(new Request(url, { headers: { 'cache-control': 'no-cache' } }))
    await drain(fetched)
    if (hasParam(fetched.headers.get('cache-status') ?? '', 'stored')) {
      run.warmed++
      deps.count('warm_warmed')
    } else {
      fail(url, fetched.status >= 400 ? `answered ${fetched.status}` : `answered ${fetched.status}, not storable`)
    }
  }
  const lane = async (): Promise<void> => {
    while (next < urls.length) {
      const url = urls[next++]!
      try {
        await one(url)
      } catch (error) {
        fail(url, (error as Error).message)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(run.concurrency, urls.length)) }, lane))
  return run
}
