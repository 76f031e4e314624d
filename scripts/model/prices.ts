/**
 * @module The published prices the cost model uses: one dated table, each price with its source. Marginal
 * (pay-as-you-go, beyond any included allowance) prices only: the model answers "what does one more
 * million requests cost", so monthly minimums and included quotas ($5 Workers Paid with 10 M requests and
 * 30 M CPU-ms; Upstash's 200 GB of free bandwidth) are left out and named here instead.
 */

/** When the prices below were read. */
export const PRICES_AS_OF = '2026-12-02'

export interface Price {
  /** USD per unit. */
  usd: number
  unit: string
  source: string
  note?: string
}

export const PRICES = {
  workersRequests: {
    usd: 0.3,
    unit: 'million requests',
    source: 'https://developers.cloudflare.com/workers/platform/pricing/ (Standard usage model)',
    note: 'beyond the 10 M requests a month the $5 Workers Paid plan includes; every request to the worker is billed, cache hits included',
  },
  workersCpu: {
    usd: 0.02,
    unit: 'million CPU-ms',
    source: 'https://developers.cloudflare.com/workers/platform/pricing/ (Standard usage model)',
    note: 'beyond the 30 M CPU-ms a month included; duration (time waiting on I/O) is not billed',
  },
  upstashCommands: {
    usd: 0.2,
    unit: '100K commands',
    source:
      'https://upstash.com/pricing/redis, Pay as You Go (as transcribed 2026-09-20 in https://raw.githubusercontent.com/api-evangelist/upstash/refs/heads/main/plans/upstash-plans-pricing.yml; the same $0.20 per 100K in a capture of the page dated 2026-11-09 at https://docs.flexprice.io/cookbooks/pricing-teardowns/upstash-pricing.md)',
    note: 'a pipeline of n commands is n commands; EVALSHA is one',
  },
  upstashBandwidth: {
    usd: 0.03,
    unit: 'GB',
    source: 'https://upstash.com/pricing/redis, Pay as You Go (same transcription)',
    note: 'free up to 200 GB a month, then $0.03/GB; the model prices every byte (both directions) at the overage rate',
  },
} as const satisfies Record<string, Price>

/** Limits the model checks its output against. */
export const LIMITS = {
  upstashCommandsPerSecond: {
    value: 10_000,
    source: 'Upstash docs redis/overall/billing.mdx via ../shared/reference/upstash-and-workers.md §1.11 (16,000 on the 100 GB and 500 GB plans)',
  },
} as const

/** Not found as a published price: said so instead of invented. */
export const UNPRICED = [
  'Cache API (caches.default) operations: no separate price on the Workers pricing page; the model counts them as free',
  'Origin egress and origin compute: the site owner\'s own; the model reports origin requests per second instead',
] as const
