/**
 * @module Writing the results: `results.json` (everything, including every repetition), `report.md`
 * (tables a reader can check by hand) and `chart.svg` (median throughput per scenario, one bar each,
 * drawn by hand: no charting dependency). Rendering is pure and unit-tested; only `writeReport` touches
 * the disk.
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { coldStartMedians, type BenchResults, type TargetVerdict } from './targets.ts'
import type { StartupResult } from './startup.ts'
import type { ThroughputResult } from './scenarios/throughput.ts'
import { ratio } from './summary.ts'
import { renderGlobal } from './scenarios/global.ts'

/** Baselines every scenario is compared with, in column order. */
export const BASELINES = [
  { id: 'node-constant', label: '× Node const' },
  { id: 'constant-worker', label: '× const worker' },
  { id: 'hono-cache', label: '× hono/cache' },
  { id: 'origin', label: '× origin' },
] as const

const num = (x: number | undefined, digits = 0): string =>
  x === undefined || !Number.isFinite(x) ? '—' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const ms = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : x < 10 ? x.toFixed(2) : x.toFixed(1))
const pct = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(1)} %`)
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
const row = (cells: string[]): string => `| ${cells.map(cell).join(' | ')} |`
const table = (head: string[], rows: string[][]): string =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n')

const VERDICT_MARK: Record<TargetVerdict['verdict'], string> = { met: '✅ met', 'not met': '❌ not met', 'not measured': '⚪ not measured' }

/** Start-up: bundle sizes (wrangler's figures), package shares, and fresh-isolate first responses. */
export function renderStartup(startup: StartupResult): string {
  const out: string[] = ['## Start-up', '']
  out.push('Minified bundles as `wrangler deploy --dry-run --minify --outdir` reports them, and the largest packages in each (esbuild metafile, same settings):')
  out.push('')
  out.push(
    table(
      ['worker', 'entry', 'total KiB', 'gzip KiB', 'largest parts (minified bytes)'],
      startup.bundles.map((b) => [b.name, `\`${b.entry}\``, num(b.totalKiB, 2), num(b.gzipKiB, 2), b.packages.slice(0, 6).map((p) => `${p.name} ${num(p.bytes)}`).join(', ')])
    )
  )
  out.push('')
  const t = coldStartMedians(startup.tiercache)
  const h = coldStartMedians(startup.hono)
  out.push(
    `Fresh worker processes, alternating (medians of ${startup.tiercache.length} each): start-up is Miniflare's start to \`ready\` (workerd up, bundle compiled ` +
      'and evaluated); the first response is the first request on that fresh isolate (a miss: for tiercache every tier on, so also configuration, ' +
      'engine set-up and the first purge-log read); the second is another miss right after.'
  )
  out.push('')
  out.push(
    table(
      ['worker', 'start-up ms', 'first response ms', 'second response ms'],
      [
        ['tiercache', ms(t.startupMs), ms(t.firstMs), ms(t.secondMs)],
        ['hono/cache', ms(h.startupMs), ms(h.firstMs), ms(h.secondMs)],
        ['ratio', num(t.startupMs / h.startupMs, 2), num(t.firstMs / h.firstMs, 2), num(t.secondMs / h.secondMs, 2)],
      ]
    )
  )
  out.push('')
  return out.join('\n')
}

/** The markdown report. */
export function renderMarkdown(results: BenchResults): string {
  const { environment: env, scenarios } = results
  const byId = new Map(scenarios.map((s) => [s.id, s]))
  const out: string[] = []
  out.push(`# tiercache benchmark — ${env.startedAt}`)
  out.push('')
  out.push(`Command: \`${env.command}\` (total runtime ${num(results.runtimeS)} s)`)
  out.push('')
  out.push(`Runtime host: ${results.host}`)
  out.push('')
  out.push(
    `Machine: ${env.machine.nproc} CPUs (${env.machine.cpuModel}), ${env.machine.memoryGiB} GiB RAM, ${env.machine.os}, kernel ${env.machine.kernel}. ` +
      `Everything (load generator, workerd processes, the Upstash-compatible server, redis-server, the demo origin) shares these CPUs.`
  )
  out.push('')
  out.push(`Versions: ${Object.entries(env.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`)
  out.push('')
  if (results.config['redisTimeoutMs'] !== undefined) {
    out.push(`tiercache workers: \`REDIS_TIMEOUT_MS=${String(results.config['redisTimeoutMs'])}\`, other settings at their defaults unless a scenario says otherwise (see Method).`)
    out.push('')
  }
  out.push(
    `Code: commit \`${env.git.commit.slice(0, 12)}\`` +
      (env.git.dirty ? ` **plus uncommitted changes in** ${env.git.changedFiles.map((f) => `\`${f}\``).join(', ')}` : ' (src/ clean)') +
      '.'
  )
  out.push('')

  out.push('## Design targets (design.md §8)')
  out.push('')
  out.push(table(['target', 'measured', 'verdict', 'why'], results.targets.map((t) => [t.target, t.measured, VERDICT_MARK[t.verdict], t.why ?? ''])))
  out.push('')

  out.push('## Runtime host and its overhead')
  out.push('')
  out.push(renderHostOverhead(byId))
  out.push('')

  if (results.startup) out.push(renderStartup(results.startup))
  out.push('## Throughput and latency')
  out.push('')
  out.push('![Median throughput per scenario](chart.svg)')
  out.push('')
  out.push(
    `Medians of ${String(results.config['reps'])} repetitions (${String(results.config['pairedReps'])} for the constant-worker/memory-hit and ` +
      `hono/cache/edge-hit pairs) of ${String(results.config['durationS'])} s ` +
      `(${String(results.config['zipfPacedDurationS'] ?? results.config['durationS'])} s for the open-loop rows) after a warm-up; ` +
      `closed loop (keep-alive, one request in flight per connection) except the "open loop" rows, which offer a fixed rate. ` +
      `Ratios are median throughput over the baseline's median throughput. ` +
      `"workerd CPU µs/req" is the worker process's own CPU time (user + system, from /proc) during the load divided by the responses: ` +
      `steadier than throughput here, where the load generator shares the two CPUs with the worker.`
  )
  out.push('')
  out.push(
    table(
      ['scenario', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'mean ms', ...BASELINES.map((b) => b.label), 'workerd CPU µs/req', 'Upstash req/req', 'Upstash cmd/req', 'origin req (total)', 'offload'],
      scenarios.map((s) => [
        s.title,
        s.rate ? `open loop ${num(s.rate)}/s` : String(s.connections),
        num(s.median.rps),
        ms(s.median.p50),
        ms(s.median.p99),
        ms(s.median.mean),
        ...BASELINES.map((b) => num(ratio(s.median.rps, byId.get(b.id)?.median.rps), 2)),
        s.perRequest.cpuUs === undefined ? '—' : num(s.perRequest.cpuUs, 1),
        s.group === 'tiercache' || s.group === 'baseline' ? num(s.perRequest.upstashRequests, 4) : '—',
        s.group === 'tiercache' || s.group === 'baseline' ? num(s.perRequest.upstashCommands, 4) : '—',
        num(s.totals.originRequests),
        pct(s.offload),
      ])
    )
  )
  out.push('')
  out.push('What each scenario is:')
  out.push('')
  for (const s of scenarios) out.push(`- **${s.title}** (\`${s.id}\`, \`${s.path}\`): ${s.description}${s.notes.length ? ` _Notes: ${s.notes.join('; ')}._` : ''}`)
  out.push('')

  const tc = scenarios.filter((s) => s.hitRatio)
  if (tc.length > 0) {
    out.push('## Hit ratio per tier (worker counters)')
    out.push('')
    out.push(
      table(
        ['scenario', 'memory', 'collapsed', 'edge', 'redis', 'stale', 'origin fetch', 'sample Cache-Status'],
        tc.map((s) => [
          s.title,
          pct(s.hitRatio!['memory']),
          pct(s.hitRatio!['collapsed']),
          pct(s.hitRatio!['edge']),
          pct(s.hitRatio!['redis']),
          pct(s.hitRatio!['stale']),
          pct(s.hitRatio!['origin']),
          s.sample ? `\`${s.sample.cacheStatus}\`` : '—',
        ])
      )
    )
    out.push('')
    const bytes = tc.filter((s) => s.redisBytes)
    if (bytes.length > 0) {
      out.push('### Bytes stored in Redis vs body bytes')
      out.push('')
      out.push(
        table(
          ['scenario', 'fills', 'body bytes', 'Redis value bytes', 'Redis / body', 'body bytes per fill', 'Redis bytes per fill', 'Redis − body per fill', 'memory bytes per entry'],
          bytes.map((s) => {
            const fills = Math.max(1, s.redisBytes!.fills)
            const memory = (s.memory ?? []).find((m) => m.entries > 0)
            return [
              s.title,
              num(s.redisBytes!.fills),
              num(s.redisBytes!.bodyBytesWritten),
              num(s.redisBytes!.redisBytesWritten),
              num(s.redisBytes!.ratio, 2),
              num(s.redisBytes!.bodyBytesWritten / fills, 1),
              num(s.redisBytes!.redisBytesWritten / fills),
              num((s.redisBytes!.redisBytesWritten - s.redisBytes!.bodyBytesWritten) / fills),
              memory ? num(memory.bytes / memory.entries) : '—',
            ]
          })
        )
      )
      out.push('')
    }
    out.push(
      'Redis bytes are the stored values\' UTF-8 length (src/codec.ts); memory bytes per entry are the memory tier\'s own ' +
        'accounting (`entrySize`: key, headers, body, tags and a fixed per-entry allowance) over the entries it holds at the end.'
    )
    out.push('')
    out.push('### Memory tier: peak bytes vs budget')
    out.push('')
    out.push(
      table(
        ['scenario', 'worker', 'entries', 'bytes now', 'peak bytes', 'budget', 'peak / budget'],
        tc.flatMap((s) => (s.memory ?? []).map((m) => [s.title, m.worker, num(m.entries), num(m.bytes), num(m.peakBytes), num(m.maxBytes), pct(m.peakBytes / m.maxBytes)]))
      )
    )
    out.push('')
  }

  if (results.zipf) {
    const z = results.zipf
    out.push('## Zipf mix')
    out.push('')
    out.push(
      `Zipf s = ${z.s} over ${num(z.keys)} keys (warm-up seed ${z.seeds[0]}, repetitions ${z.seeds[1]}…${z.seeds.at(-1)}), origin delay ${z.originLatencyMs} ms, Upstash delay ${z.upstashLatencyMs} ms. ` +
        `Warm-up: ${num(z.warmupRequests)} requests from the same distribution (seeded separately) with the origin delay off, so it completes quickly; its own offload (cold start) was ${pct(z.warmupOffload)}. ` +
        `Keys never requested before are compulsory misses: after the warm-up about ${pct(z.expectedColdShareAfterWarmup)} of requests are expected to hit such a key.`
    )
    out.push('')
    out.push(
      `Mean latency at equal load (${num(z.pacedRate)} req/s offered, open loop, to both): ${ms(z.meanLatencyMs)} ms vs ${ms(z.noCacheMeanLatencyMs)} ms for the same kind of requests ` +
        `sent straight to the ${z.originLatencyMs} ms origin: **${num(z.latencyImprovement, 1)}× lower**. ` +
        `At full speed (as many requests as ${String(results.config['zipfConnections'])} connections get answered) the mean is ${ms(z.saturatedMeanLatencyMs)} ms ` +
        `(${num(z.saturatedLatencyImprovement, 1)}×), most of it queueing in the saturated worker.` +
        (z.noEdgeLatencyImprovement === undefined
          ? ''
          : ` The same paced pass on a fresh worker with the edge tier off, given the same request history (warm-up and full-speed requests replayed): ${ms(z.noEdgeMeanLatencyMs ?? Number.NaN)} ms, ` +
            `**${num(z.noEdgeLatencyImprovement, 1)}×**. Locally the Cache API is Miniflare's simulation inside the worker's own workerd process ` +
            `(Cloudflare's is a separate service), so the difference between these two rows is what the simulated edge tier cost the Zipf latency in this run.`)
    )
    out.push('')
  }

  if (results.stampede) {
    const st = results.stampede
    out.push('## Stampede')
    out.push('')
    out.push(`${st.concurrency} concurrent requests for one cold key, alternating between two worker processes sharing Redis; origin delay ${st.originLatencyMs} ms.`)
    out.push('')
    out.push(
      table(
        ['repetition', 'path', 'origin requests', 'distinct bodies', 'statuses', 'served by', 'elapsed ms'],
        st.runs.map((r, i) => [
          String(i + 1),
          `\`${r.path}\``,
          String(r.originRequests),
          String(r.distinctBodies),
          Object.entries(r.statuses).map(([k, v]) => `${k}×${v}`).join(' '),
          Object.entries(r.servedBy).map(([k, v]) => `${k} ${v}`).join(', '),
          num(r.elapsedMs),
        ])
      )
    )
    out.push('')
  }

  if (results.global) {
    out.push(renderGlobal(results.global, Number(results.config['deltaMs'] ?? 2000)))
  }

  out.push('## Purge-to-invisible')
  out.push('')
  const purge = results.purge
  if (!purge) out.push('Not run.')
  else if (!purge.available) out.push(`**${purge.reason}.**${purge.probeBody ? ` Probe answer: \`${purge.probeBody}\`` : ''}`)
  else {
    out.push(
      `${purge.trials.length} trials across two worker processes, polling both every ~${purge.pollIntervalMs} ms: ` +
        `p50 **${num(purge.delayMs.p50)} ms**, p99 **${num(purge.delayMs.p99)} ms**, max **${num(purge.delayMs.max)} ms**` +
        (purge.timedOut ? `; ${purge.timedOut} trial(s) still showed the old version at the ${purge.deadlineMs} ms deadline.` : '.')
    )
  }
  out.push('')

  out.push('## Method')
  out.push('')
  out.push(METHOD)
  out.push('')
  if (results.notes.length > 0) {
    out.push('## Notes from this run')
    out.push('')
    for (const note of results.notes) out.push(`- ${note}`)
    out.push('')
  }

  out.push('## Every repetition')
  out.push('')
  out.push(
    table(
      ['scenario', 'rep', 'responses', 'req/s', 'p50', 'p90', 'p99', 'max', 'Upstash req', 'Upstash cmds', 'origin req', 'statuses'],
      scenarios.flatMap((s) =>
        s.runs.map((r, i) => [
          s.id,
          String(i + 1),
          num(r.load.responses),
          num(r.load.rps),
          ms(r.load.latencyMs.p50),
          ms(r.load.latencyMs.p90),
          ms(r.load.latencyMs.p99),
          ms(r.load.latencyMs.max),
          num(r.upstashRequests),
          num(r.upstashCommands),
          num(r.originRequests),
          Object.entries(r.load.statuses).map(([k, v]) => `${k}×${v}`).join(' '),
        ])
      )
    )
  )
  out.push('')
  return out.join('\n')
}

/**
 * What the host costs: the load generator's ceiling, the constant worker (direct, and through Miniflare's
 * entry worker), and tiercache's marginal time per memory hit over the constant worker. With workerd
 * saturated (one JS thread at 100 %), 1 / throughput is the worker thread's time per request, so the
 * difference of two such times is what the extra work costs.
 */
export function renderHostOverhead(byId: Map<string, ThroughputResult>): string {
  const rps = (id: string) => byId.get(id)?.median.rps
  const usPer = (id: string) => {
    const r = rps(id)
    return r && Number.isFinite(r) ? 1e6 / r : Number.NaN
  }
  const lines: string[] = []
  const node = rps('node-constant')
  const direct = rps('constant-worker')
  const entry = rps('constant-worker-entry')
  const memory = rps('memory-hit')
  const memoryEntry = rps('memory-hit-entry')
  if (node !== undefined) lines.push(`- Load generator ceiling (plain Node server, same bytes): **${num(node)} req/s**.`)
  if (direct !== undefined) {
    lines.push(
      `- Constant worker, direct socket: **${num(direct)} req/s** (${num(ratio(direct, node), 2)} × the Node server): ` +
        `workerd's own cost per request here is about ${num(usPer('constant-worker'))} µs of its thread.`
    )
  }
  if (entry !== undefined && direct !== undefined) {
    lines.push(
      `- Constant worker through Miniflare's entry worker (\`host\`/\`port\`, the \`wrangler dev\` path): **${num(entry)} req/s**, ` +
        `${num(ratio(entry, direct), 2)} × direct: the entry worker adds about ${num(usPer('constant-worker-entry') - usPer('constant-worker'))} µs per request.`
    )
  }
  if (memory !== undefined && direct !== undefined) {
    lines.push(
      `- tiercache memory hit, direct: **${num(memory)} req/s**: tiercache's own work per memory hit is about ` +
        `${num(usPer('memory-hit') - usPer('constant-worker'))} µs on top of the constant worker.` +
        (memoryEntry !== undefined ? ` Through the entry worker: ${num(memoryEntry)} req/s (${num(ratio(memoryEntry, entry), 2)} × the constant worker through the same entry).` : '')
    )
  }
  return lines.length > 0 ? lines.join('\n') : 'Host scenarios were not run.'
}

const METHOD = `- **Host.** Each worker runs in its own workerd process started by Miniflare 4 and is loaded over real local HTTP/1.1
  (keep-alive) on a socket bound straight to the worker (\`unsafeDirectSockets\`). Miniflare's usual \`host\`/\`port\` socket, the one
  \`wrangler dev\` serves, first runs Miniflare's own entry worker; that costs more per request than a whole memory hit here, so it is
  measured in its own rows rather than hidden in every figure. Bundles are built by esbuild as \`wrangler deploy\` would. The
  constant-response worker is the host's ceiling (routing + one \`Response\`, same bytes as a memory hit); the plain Node server
  answering the same bytes is the load generator's ceiling on this machine.
- **Load.** Throughput: autocannon, closed loop, in the orchestrating process. Latency at a given load (the Zipf comparison):
  an open-loop generator sending evenly spaced requests at a fixed rate, as many in flight as needed. The demo origin, the
  Upstash-compatible server and the Node baseline run in child processes, so the load generator never shares an event loop with
  a server. Latency percentiles are nearest-rank over every response. Scenarios that are compared with each other (constant
  worker and memory hit; hono/cache and edge hit; the Zipf passes and the no-cache origin) run with their repetitions interleaved.
- **Content.** Every cached URL is the demo origin's \`/etag/:id?max-age=3600\` (a short text body with a strong ETag), fresh
  for an hour so nothing expires during a run; the stampede uses fresh \`/public/:id\` keys, the purge \`/items/:id\`. Workers are
  addressed as \`Host: tiercache.bench\` whatever their port: tiercache keys on the host, and two processes must see one site.
- **Isolating a tier.** Memory hit: one hot URL. Edge hit: a worker with \`MEMORY_MAX_BYTES=64\`, which makes the memory tier's
  per-entry limit (a quarter of the budget) smaller than any response, so memory never stores and every request reads the
  Cache API; requests rotate over pre-warmed URLs so the in-isolate single-flight never merges them. (Clearing memory through
  \`/__tiercache/memory/clear\` would refill it on the next hit, so it could not hold for a whole run.) Redis hit: the same plus
  \`EDGE_CACHE=off\`. Miss: a new URL for every request. hono/cache is loaded with the same rotating URLs as the edge hit.
- **Counting.** Upstash requests and commands are counted by the Upstash-compatible server, origin requests by the demo origin,
  hits per tier and bytes by tiercache's own counters (\`/__tiercache/stats\`), each as the difference around a repetition
  (after a 300 ms pause for \`waitUntil\` fills). Per-request ratios divide by tiercache's own request count, which includes the
  few requests still in flight when the load generator stopped.
- **Redis deadline.** The workers run with the \`REDIS_TIMEOUT_MS\` given at the top (1000 ms unless \`--redis-timeout-ms\` says
  otherwise) instead of the shipped 150 ms: on two cores
  shared by the load generator, workerd, the Upstash-compatible server and redis-server, a scheduling stall is not Redis latency,
  and three timeouts open tiercache's circuit breaker, which then sends Redis hits to the origin for the cool-down (seen in
  trial runs at 150 ms). Calls past the deadline are still counted and named in the report.
- **Seeds.** Zipf samples come from mulberry32 with fixed seeds; URL rotations are deterministic counters.
- **Caveats.** The Cache API here is Miniflare's local implementation (a service inside workerd), so edge-hit and miss figures
  include its cost, not Cloudflare's; the Upstash-compatible server is a local Node process, not Upstash's network. Ratios
  between scenarios on this machine are the meaningful figures, not absolute requests per second.`

/** Colours per scenario group. */
const GROUP_COLOUR: Record<ThroughputResult['group'], string> = { reference: '#9ca3af', baseline: '#60a5fa', tiercache: '#f59e0b' }

const escapeXml = (text: string): string => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** A horizontal bar chart of median throughput per scenario. */
export function renderSvg(scenarios: ThroughputResult[], title = 'Median throughput (req/s)'): string {
  const width = 860
  const labelWidth = 250
  const valueWidth = 90
  const barHeight = 22
  const gap = 8
  const top = 40
  const legendHeight = 30
  const height = top + scenarios.length * (barHeight + gap) + legendHeight
  const max = Math.max(1, ...scenarios.map((s) => (Number.isFinite(s.median.rps) ? s.median.rps : 0)))
  const plot = width - labelWidth - valueWidth - 10
  const parts: string[] = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13">`)
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  parts.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(title)}</text>`)
  scenarios.forEach((s, i) => {
    const y = top + i * (barHeight + gap)
    const value = Number.isFinite(s.median.rps) ? s.median.rps : 0
    const w = Math.max(1, Math.round((value / max) * plot))
    parts.push(`<text x="${labelWidth - 8}" y="${y + barHeight * 0.7}" text-anchor="end">${escapeXml(s.title)}</text>`)
    parts.push(`<rect x="${labelWidth}" y="${y}" width="${w}" height="${barHeight}" fill="${GROUP_COLOUR[s.group]}"><title>${escapeXml(`${s.title}: ${Math.round(value)} req/s, p50 ${s.median.p50.toFixed(2)} ms, p99 ${s.median.p99.toFixed(2)} ms`)}</title></rect>`)
    parts.push(`<text x="${labelWidth + w + 6}" y="${y + barHeight * 0.7}">${escapeXml(Math.round(value).toLocaleString('en-US'))}</text>`)
  })
  const ly = height - legendHeight + 12
  const legend: Array<[string, string]> = [
    ['reference (load generator / host)', GROUP_COLOUR.reference],
    ['baseline', GROUP_COLOUR.baseline],
    ['tiercache', GROUP_COLOUR.tiercache],
  ]
  let lx = labelWidth
  for (const [label, colour] of legend) {
    parts.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${colour}"/>`)
    parts.push(`<text x="${lx + 16}" y="${ly}">${escapeXml(label)}</text>`)
    lx += 16 + label.length * 7 + 20
  }
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}

/** Writes results.json, report.md and chart.svg into `dir`, then mirrors `dir` to `latestDir`. */
export function writeReport(results: BenchResults, dir: string, latestDir: string): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'results.json'), `${JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`)
  writeFileSync(path.join(dir, 'report.md'), renderMarkdown(results))
  writeFileSync(path.join(dir, 'chart.svg'), renderSvg(results.scenarios))
  rmSync(latestDir, { recursive: true, force: true })
  mkdirSync(latestDir, { recursive: true })
  for (const file of ['results.json', 'report.md', 'chart.svg']) cpSync(path.join(dir, file), path.join(latestDir, file))
}
