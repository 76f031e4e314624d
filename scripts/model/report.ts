/**
 * @module The cost model's output as Markdown: parameters, per-configuration figures, per-tier dollars,
 * the price table with its sources and date, and the approximations.
 */
import type { ConfigResult, ModelResult, Tier } from './model.ts'
import { COMMANDS } from './commands.ts'
import { LIMITS, PRICES, PRICES_AS_OF, UNPRICED } from './prices.ts'

const pct = (x: number) => `${(x * 100).toFixed(1)} %`
const fixed = (x: number, digits = 1) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const usd = (x: number) => `$${x < 0.01 ? x.toFixed(4) : x.toFixed(3)}`

export function formatReport(result: ModelResult): string {
  const { params: p, configs, tiers } = result
  const lines: string[] = []
  lines.push(
    `## Cost model: ${fixed(p.isolates, 0)} isolates in ${fixed(p.dataCentres, 0)} data centres, ${fixed(p.requestsPerSecond, 0)} req/s, Zipf ${p.zipfS} over ${fixed(p.keys, 0)} keys, ${fixed(p.purgesPerSecond, 0)} purges/s, δ = ${fixed(p.deltaMs / 1000)} s`,
    '',
    `Objects ${fixed(p.objectBytes, 0)} B with a ${fixed(p.ttlSeconds, 0)} s lifetime; memory tier ${fixed(p.memoryBudgetBytes / 1048576)} MiB per isolate ` +
      `(${fixed(Math.floor(p.memoryBudgetBytes / (p.objectBytes + p.memoryEntryOverheadBytes)), 0)} objects); edge ${p.edgeCapacityObjects === undefined ? 'unbounded (TTL only)' : `${fixed(p.edgeCapacityObjects, 0)} objects`} per data centre; purges hit keys ${p.purgeKeys === 'popular' ? 'by popularity' : 'uniformly'}.`,
    '',
    '| configuration | memory | edge | Redis | origin | Upstash cmd/s | of which coherence | origin req/s | Upstash MB/s | Workers CPU µs/req | $ / M req |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'
  )
  for (const c of configs) {
    lines.push(
      `| ${c.name} | ${pct(c.share.memory)} | ${pct(c.share.edge)} | ${pct(c.share.redis)} | ${pct(c.share.origin)} | ${fixed(c.commandsPerSecond.total)} | ${fixed(c.commandsPerSecond.coherence)} | ${fixed(c.originPerSecond)} | ${fixed(c.upstashBytesPerSecond / 1e6, 2)} | ${fixed(c.cpuUsPerRequest)} | ${usd(c.usdPerMillion.total)} |`
    )
  }
  const over = configs.filter((c) => c.commandsPerSecond.total > LIMITS.upstashCommandsPerSecond.value)
  for (const c of over) lines.push('', `⚠ ${c.name}: ${fixed(c.commandsPerSecond.total, 0)} Upstash commands/s exceeds one database's ${fixed(LIMITS.upstashCommandsPerSecond.value, 0)}/s (${LIMITS.upstashCommandsPerSecond.source}).`)

  lines.push('', '### Dollars per million requests, by line', '', '| configuration | Workers requests | Workers CPU | Upstash commands | Upstash bandwidth | total |', '| --- | --- | --- | --- | --- | --- |')
  for (const c of configs) {
    const u = c.usdPerMillion
    lines.push(`| ${c.name} | ${usd(u.workersRequests)} | ${usd(u.workersCpu)} | ${usd(u.upstashCommands)} | ${usd(u.upstashBandwidth)} | ${usd(u.total)} |`)
  }

  lines.push('', '### Per tier: Upstash commands per second and dollars per million requests (Workers request + CPU + Upstash commands of the requests it answers)', '')
  lines.push('| configuration | ' + (['memory', 'edge', 'redis', 'origin'] as Tier[]).map((t) => `${t} cmd/s · $/M`).join(' | ') + ' | coherence cmd/s · $/M | purges cmd/s · $/M |')
  lines.push('| --- | --- | --- | --- | --- | --- | --- |')
  for (const c of configs) lines.push(`| ${c.name} | ${perTierCells(c, p.requestsPerSecond)} |`)

  lines.push(
    '',
    `Tiers: memory ${describe(tiers.memory)}; edge (tiercache) ${describe(tiers.edge)}; edge (hono/cache) ${describe(tiers.honoEdge)}; Redis ${describe(tiers.redis)}.`,
    '',
    `Upstash commands per outcome (scripts/model/commands.ts, checked against the code in workerd by test/scripts/model/commands.test.ts): ` +
      `memory hit ${COMMANDS.memoryHit}, edge hit ${COMMANDS.edgeHit}, Redis hit ${COMMANDS.redisHit}, miss ${COMMANDS.miss}, coherence read ${COMMANDS.coherenceRead}, purge ${COMMANDS.purge}.`,
    '',
    `### Prices (read ${PRICES_AS_OF}; marginal rates, included allowances left out)`,
    '',
    '| item | USD | per | source | note |',
    '| --- | --- | --- | --- | --- |'
  )
  for (const [name, price] of Object.entries(PRICES)) lines.push(`| ${name} | ${price.usd} | ${price.unit} | ${price.source} | ${price.note ?? ''} |`)
  lines.push('', ...UNPRICED.map((u) => `- Not priced: ${u}.`))
  return lines.join('\n')
}

const describe = (t: ModelResult['tiers']['memory']) =>
  `${t.bound === 'capacity' ? `capacity-bound (Che's T_C = ${fixed(t.characteristicTimeS ?? 0)} s)` : 'lifetime-bound'}, ${fixed(t.occupancy, 0)} objects held per instance on average`

function perTierCells(c: ConfigResult, rps: number): string {
  const perMillion = 1e6 / rps
  const commandUsd = (cps: number) => (cps * perMillion * PRICES.upstashCommands.usd) / 100_000
  const cell = (t: Tier) => {
    const cps = c.perTier[t].commandsPerRequest * rps
    return `${fixed(cps)} · ${usd(c.perTier[t].usdPerMillion)}`
  }
  const purgeCps = c.commandsPerSecond.purges + c.commandsPerSecond.purgeRefills
  return `${cell('memory')} | ${cell('edge')} | ${cell('redis')} | ${cell('origin')} | ${fixed(c.commandsPerSecond.coherence)} · ${usd(commandUsd(c.commandsPerSecond.coherence))} | ${fixed(purgeCps)} · ${usd(commandUsd(purgeCps))}`
}
