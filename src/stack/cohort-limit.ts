/**
 * @module The cap on distinct cohorts per URL (src/options.ts `CohortOptions.maxCohorts`), per isolate: a
 * cohort value the cache has not seen for a URL is admitted until the URL has `max` of them; requests of
 * further cohorts go to the origin uncached. A header or cookie with unbounded values (a user id by
 * mistake, an attacker's random values) then costs origin requests, not an unbounded number of entries.
 */

/** URLs whose cohorts are remembered; past it the table starts over (the cap is a guard, not a rule). */
const MAX_URLS = 10_000

export class CohortLimit {
  readonly #seen = new Map<string, Set<string>>()

  /** Whether `cohort` may be cached for `url`, remembering it when it may. */
  admit(url: string, cohort: string, max: number): boolean {
    let cohorts = this.#seen.get(url)
    if (!cohorts) {
      if (this.#seen.size >= MAX_URLS) this.#seen.clear()
      cohorts = new Set()
      this.#seen.set(url, cohorts)
    }
    if (cohorts.has(cohort)) return true
    if (cohorts.size >= max) return false
    cohorts.add(cohort)
    return true
  }
}
