/**
 * `npm run bench`: starts everything it needs on free ports (redis-server if none answers, the
 * Upstash-compatible server, the demo origin, worker processes in workerd via Miniflare), measures
 * tiercache against the limit (a constant-response worker), hono/cache and the origin itself, writes
 * `bench-results/<timestamp>/{results.json,report.md,chart.svg}` plus a copy in `bench-results/latest/`,
 * and stops everything it started, also on Ctrl-C. `npm run bench -- --help` lists the options.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { projectRoot } from '../build-worker.ts'
import { BENCH_HOST } from './client.ts'
import { cpuBusyShare, describeEnvironment } from './environment.ts'
import { cleanupAll, installSignalHandlers, interrupted, onCleanup } from '../lib/lifecycle.ts'
import { runLoad } from './load.ts'
import { parseOptions, USAGE, type BenchOptions } from './options.ts'
import { describePinning, pinThisProcess, planPinning } from './cpu-pinning.ts'
import { writeReport } from './report.ts'
import { runPurge, type PurgeResult } from './scenarios/purge.ts'
import { runStampede, type StampedeResult } from './scenarios/stampede.ts'
import { runGlobal, type GlobalRow } from './scenarios/global.ts'
import { memoryReports, runInterleaved, runThroughput, servedBy, type BenchContext, type ThroughputDefinition, type ThroughputResult } from './scenarios/throughput.ts'
import { pinServices, startLocalStack, startService, UpstashControl } from './services.ts'
import { evaluateTargets, type BenchResults, type ZipfFigures } from './targets.ts'
import { buildBundles, startWorker, type Bundles, type WorkerProcess } from './workers.ts'
import { createZipf, expectedColdShare } from './zipf.ts'
import { bundleSize, type ColdStart, type StartupResult } from './startup.ts'
import type { ConstantResponse } from './baselines/node-constant.ts'

const UPSTASH_TOKEN = 'bench-upstash-token'
const INTERNAL_TOKEN = 'bench-internal-token'
const PURGE_SECRET = 'bench-purge-secret-0123456789'
/** Small enough that the memory tier's per-entry limit (budget / 4 = 16 bytes) admits nothing. */
const NO_MEMORY_BUDGET = '64'
/** Every worker is addressed as one site, whatever its port (see client.ts). */
const WORKER_HEADERS = { host: BENCH_HOST }
/**
 * Every cached URL of the benchmark: a demo-origin resource (text body, strong ETag) fresh for an hour, so
 * nothing expires during a run: a 60 s lifetime would turn the later repetitions of a scenario into
 * revalidations with the origin and mix two workloads in one figure.
 */
const resource = (id: string): string => `/etag/${id}?max-age=3600`
/** The hot URL: served from memory, and the exact response the constant baselines send back. */
const HOT = resource('bench-hot')
/** Per-user caching (issue 13): the demo origin's private page, cached per identity on a `perUser` route. */
const USER_ROUTES = JSON.stringify([{ pattern: '/p/', perUser: { identity: 'authorization' } }])
const userResource = (id: string): string => `/p/private?k=${id}&max-age=3600`
const USER_HEADERS = { ...WORKER_HEADERS, authorization: 'Bearer bench-user' }

const HOST_DESCRIPTION =
  'workerd (the runtime `wrangler dev` and Miniflare run), one workerd process per worker started by Miniflare 4, ' +
  'reached over local HTTP/1.1 keep-alive on a socket bound straight to the worker (Miniflare `unsafeDirectSockets`). ' +
  'Miniflare\'s usual `host`/`port` socket — the one `wrangler dev` serves — first runs Miniflare\'s own entry worker; ' +
  'its cost is measured separately (rows "… via Miniflare entry"). The Cache API is Miniflare\'s local implementation ' +
  '(a loopback service inside workerd), not Cloudflare\'s.'

interface Run {
  options: BenchOptions
  ctx: BenchContext
  bundles: Bundles
  runId: string
  logDir: string
  notes: string[]
  scenarios: ThroughputResult[]
  startTiercache(name: string, extra?: Record<string, string>, healthCheck?: boolean): Promise<WorkerProcess>
  want(id: string): boolean
}

async function main(options: BenchOptions): Promise<void> {
  const started = performance.now()
  const runId = randomBytes(4).toString('hex')
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z')
  const resultsRoot = path.resolve(projectRoot, options.outDir)
  const dir = path.join(resultsRoot, stamp)
  const logDir = path.join(dir, 'logs')
  mkdirSync(logDir, { recursive: true })
  const log = (message: string) => console.log(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}`)
  const notes: string[] = []
  const environment = describeEnvironment(process.argv.slice(2))
  if (environment.git.dirty) notes.push(`Measured with uncommitted changes in src/: ${environment.git.changedFiles.join(', ')}.`)
  // Other processes (a test run, a build) would distort every figure: say so in the report.
  const busyBefore = await cpuBusyShare(1000)
  if (busyBefore > 0.2) notes.push(`The machine was not idle at the start: ${(busyBefore * 100).toFixed(0)} % of CPU time busy in the second before the run.`)

  log(`results → ${path.relative(projectRoot, dir)}`)
  log('building worker bundles')
  const bundles = await buildBundles()
  const pinning = planPinning(options.pin)
  pinServices('off' in pinning ? undefined : pinning)
  log('starting redis, the Upstash-compatible server and the demo origin')
  const stack = await startLocalStack({ token: UPSTASH_TOKEN, logDir })
  // After the stack: a redis-server this run starts must not inherit the load generator's CPU.
  if (!('off' in pinning)) pinThisProcess(pinning.loadGenerator)
  log(describePinning(pinning))
  const ctx: BenchContext = { upstash: stack.upstash, origin: stack.origin, durationS: options.durationS, reps: options.reps, warmupS: options.warmupS, log }
  const redisPrefix = `bench:${runId}:`
  // Runs before the Upstash-compatible server stops (cleanups run newest first), also on Ctrl-C.
  const deleteKeys = onCleanup('bench Redis keys', async () => {
    const deleted = await stack.upstash.deletePrefix(redisPrefix).catch(() => -1)
    log(`deleted ${deleted} Redis keys under ${redisPrefix}`)
  })

  const run: Run = {
    options,
    ctx,
    bundles,
    runId,
    logDir,
    notes,
    scenarios: [],
    want: (id) => options.only.length === 0 || options.only.includes(id),
    async startTiercache(name, extra = {}, healthCheck = true) {
      const worker = await startWorker({
        name,
        scriptPath: bundles.tiercache,
        bindings: {
          ORIGIN_URL: stack.origin.url,
          UPSTASH_REDIS_REST_URL: stack.upstash.url,
          UPSTASH_REDIS_REST_TOKEN: UPSTASH_TOKEN,
          REDIS_PREFIX: redisPrefix,
          REDIS_TIMEOUT_MS: String(options.redisTimeoutMs),
          PURGE_SECRET,
          INTERNAL_TOKEN,
          ...extra,
        },
        logFile: path.join(logDir, `${name}.log`),
        internalToken: INTERNAL_TOKEN,
      })
      if (!healthCheck) return worker
      const health = await worker.get('/__tiercache/health')
      if (health.status !== 200) throw new Error(`${name} is not healthy: ${health.status} ${health.text().slice(0, 400)}`)
      return worker
    },
  }

  await baselineAndTierScenarios(run)
  const startup = run.want('startup') ? await startupScenario(run) : undefined
  const zipf = run.want('zipf') || run.want('origin-80ms') ? await zipfScenarios(run) : undefined
  const { stampede, purge } = await coherenceScenarios(run)
  await dataScenarios(run, { url: stack.upstash.url, prefix: redisPrefix })
  const global = run.want('global') ? await globalScenarios(run, stack.upstash) : undefined

  const order = ['node-constant', 'constant-worker', 'constant-worker-entry', 'hono-cache', 'origin', 'memory-hit', 'memory-hit-entry', 'memory-hit-user', 'edge-hit', 'redis-hit', 'redis-hit-user', 'miss', 'hono-miss', 'zipf', 'zipf-paced', 'zipf-no-edge', 'origin-80ms', 'data-memory-hit', 'data-map', 'data-redis-hit', 'data-upstash-get']
  run.scenarios.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id))

  await deleteKeys()
  await Promise.all(stack.services.map((service) => service.stop()))
  const busyAfter = await cpuBusyShare(1000)
  if (busyAfter > 0.2) notes.push(`Something else kept the machine busy at the end: ${(busyAfter * 100).toFixed(0)} % of CPU time busy in the second after the run.`)
  const targets = evaluateTargets({ scenarios: run.scenarios, ...(startup ? { startup } : {}), ...(zipf ? { zipf } : {}), ...(stampede ? { stampede } : {}), ...(purge ? { purge } : {}), deltaMs: options.deltaMs })
  const results: BenchResults = {
    environment,
    config: { ...options, runId, redisPrefix, workerHost: BENCH_HOST, cpuBusyBefore: busyBefore, cpuBusyAfter: busyAfter },
    host: `${HOST_DESCRIPTION} ${describePinning(pinning)}`,
    scenarios: run.scenarios,
    ...(startup ? { startup } : {}),
    ...(zipf ? { zipf } : {}),
    ...(stampede ? { stampede } : {}),
    ...(purge ? { purge } : {}),
    ...(global ? { global } : {}),
    targets,
    runtimeS: (performance.now() - started) / 1000,
    notes,
  }
  writeReport(results, dir, path.join(resultsRoot, 'latest'))
  log(`wrote ${path.relative(projectRoot, dir)}/{results.json,report.md,chart.svg} and ${path.relative(projectRoot, path.join(resultsRoot, 'latest'))}/`)
  for (const t of targets) log(`${t.verdict.padEnd(12)} ${t.target}: ${t.measured}`)
}

/** Baselines, then one scenario per tier. */
async function baselineAndTierScenarios(run: Run): Promise<void> {
  const { options, ctx, bundles, logDir, notes, scenarios, want } = run
  const measure = async (def: ThroughputDefinition) => {
    const result = await runThroughput(ctx, def)
    scenarios.push(result)
    return result
  }
  const rotatingLabel = resource(`bench-k{0..${options.rotatingKeys - 1}}`)
  const rotatingPaths = Array.from({ length: options.rotatingKeys }, (_, i) => resource(`bench-k${i}`))
  /** A fresh counter per repetition; consecutive requests never share a URL, so nothing coalesces. */
  const rotating = () => {
    let i = 0
    return () => rotatingPaths[i++ % rotatingPaths.length]!
  }
  const prewarm = async (worker: WorkerProcess, expect: 'edge' | 'redis' | undefined) => {
    for (const p of rotatingPaths) await worker.get(p)
    await sleep(300)
    if (!expect) return
    const seen: Record<string, number> = {}
    for (const p of rotatingPaths) {
      const tier = servedBy((await worker.get(p)).header('cache-status'))
      seen[tier] = (seen[tier] ?? 0) + 1
    }
    if ((seen[expect] ?? 0) !== rotatingPaths.length) notes.push(`${worker.name}: after pre-warming, answers came from ${JSON.stringify(seen)} (expected all from ${expect}).`)
  }

  let main: WorkerProcess | undefined
  let constant: ConstantResponse | undefined
  if (['node-constant', 'constant-worker', 'constant-worker-entry', 'memory-hit', 'memory-hit-entry', 'memory-hit-user', 'miss'].some(want)) {
    main = await run.startTiercache('tiercache-main', { ROUTES: USER_ROUTES })
    await main.get(HOT)
    await sleep(100)
    const hit = await main.get(HOT)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(hit.headers)) {
      if (value === undefined || ['content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding'].includes(name)) continue
      headers[name] = Array.isArray(value) ? value.join(', ') : value
    }
    constant = { status: hit.status, headers, body: hit.text() }
    if (servedBy(hit.header('cache-status')) !== 'memory') notes.push(`The hot URL's second response was not a memory hit (${hit.header('cache-status')}).`)
  }

  if (want('node-constant') && constant) {
    const node = await startService('node-constant', constant, path.join(logDir, 'node-constant.log'))
    await measure({
      id: 'node-constant',
      title: 'Node http constant',
      group: 'reference',
      description: 'A plain Node `http` server (its own process) sending the same bytes as a memory hit: the load generator\'s ceiling on this machine.',
      url: node.url,
      path: () => HOT,
      pathLabel: HOT,
      connections: options.connections,
      headers: WORKER_HEADERS,
      offload: false,
    })
    await node.stop()
  }

  // The limit and the memory hit, repetitions interleaved; then the same pair through Miniflare's entry worker.
  if (constant && main && ['constant-worker', 'constant-worker-entry', 'memory-hit', 'memory-hit-entry'].some(want)) {
    const worker = await startWorker({
      name: 'constant-worker',
      scriptPath: bundles.constant,
      bindings: { CONSTANT_RESPONSE: JSON.stringify(constant) },
      logFile: path.join(logDir, 'constant-worker.log'),
    })
    const hot = { path: () => HOT, pathLabel: HOT, connections: options.connections, headers: WORKER_HEADERS }
    const constantDef = (id: string, title: string, description: string, url: string): ThroughputDefinition => ({ ...hot, id, title, description, url, group: 'reference', offload: false, cpu: [worker] })
    const memoryDef = (id: string, title: string, description: string, url: string): ThroughputDefinition => ({ ...hot, id, title, description, url, group: 'tiercache', workers: [main!] })
    const direct: ThroughputDefinition[] = []
    if (want('constant-worker')) {
      direct.push(constantDef('constant-worker', 'Constant worker (limit)', 'A worker returning the bytes of a tiercache memory hit and doing nothing else: the runtime host\'s ceiling, design.md\'s "limit".', worker.url))
    }
    if (want('memory-hit')) direct.push(memoryDef('memory-hit', 'tiercache memory hit', 'One hot URL, answered from the isolate\'s memory tier (default 16 MiB budget).', main.url))
    const entry: ThroughputDefinition[] = []
    if (want('constant-worker-entry')) {
      entry.push(constantDef('constant-worker-entry', 'Constant worker via Miniflare entry', 'The same constant worker through Miniflare\'s `host`/`port` socket (its entry worker runs first, as under `wrangler dev`): the host overhead.', worker.entryUrl))
    }
    if (want('memory-hit-entry')) {
      entry.push(memoryDef('memory-hit-entry', 'tiercache memory hit via Miniflare entry', 'The memory hit through Miniflare\'s `host`/`port` socket (entry worker first, as under `wrangler dev`).', main.entryUrl))
    }
    if (direct.length > 0) scenarios.push(...(await runInterleaved(ctx, direct, options.pairedReps)))
    if (entry.length > 0) scenarios.push(...(await runInterleaved(ctx, entry)))
    await worker.stop()
  }

  if (main && want('memory-hit-user')) {
    const hotUser = userResource('bench-hot')
    for (let i = 0; i < 2; i++) await main.get(hotUser, { headers: USER_HEADERS })
    const check = await main.get(hotUser, { headers: USER_HEADERS })
    if (servedBy(check.header('cache-status')) !== 'memory') notes.push(`The per-user hot URL was not a memory hit (${check.header('cache-status')}).`)
    await measure({
      id: 'memory-hit-user',
      title: 'tiercache per-user memory hit',
      group: 'tiercache',
      description: 'One hot URL on a `perUser` route (identity from Authorization), answered from memory: the memory hit plus hashing the identity (SHA-256) into the key.',
      url: main.url,
      path: () => hotUser,
      pathLabel: hotUser,
      connections: options.connections,
      headers: USER_HEADERS,
      workers: [main],
    })
  }

  // hono/cache and the edge hit on the same rotating URLs, repetitions interleaved.
  if (want('hono-cache') || want('edge-hit')) {
    const pair: ThroughputDefinition[] = []
    const rotatingDef = { path: rotating, pathLabel: rotatingLabel, connections: options.connections, headers: WORKER_HEADERS }
    const stops: Array<() => Promise<void>> = []
    if (want('hono-cache')) {
      const hono = await startWorker({ name: 'hono-cache', scriptPath: bundles.honoCache, bindings: { ORIGIN_URL: ctx.origin.url }, logFile: path.join(logDir, 'hono-cache.log') })
      stops.push(hono.stop)
      await prewarm(hono, undefined)
      pair.push({
        ...rotatingDef,
        id: 'hono-cache',
        title: 'hono/cache hit',
        group: 'baseline',
        description: `\`hono/cache\` (Cache API) in front of the demo origin, ${options.rotatingKeys} pre-warmed URLs in rotation: the same requests as the edge-hit scenario.`,
        url: hono.url,
        cpu: [hono],
      })
    }
    if (want('edge-hit')) {
      const edge = await run.startTiercache('tiercache-edge', { MEMORY_MAX_BYTES: NO_MEMORY_BUDGET })
      stops.push(edge.stop)
      await prewarm(edge, 'edge')
      pair.push({
        ...rotatingDef,
        id: 'edge-hit',
        title: 'tiercache edge hit',
        group: 'tiercache',
        description: `Memory budget ${NO_MEMORY_BUDGET} bytes (memory admits nothing), so every request is answered by the Cache API; ${options.rotatingKeys} pre-warmed URLs in rotation.`,
        url: edge.url,
        workers: [edge],
      })
    }
    for (const result of await runInterleaved(ctx, pair, options.pairedReps)) {
      if (result.totals.originRequests > 0) result.notes.push(`${result.totals.originRequests} requests reached the origin during measurement`)
      scenarios.push(result)
    }
    for (const stop of stops) await stop()
  }

  if (want('origin')) {
    await measure({
      id: 'origin',
      title: 'Origin direct (no cache)',
      group: 'baseline',
      description: 'The demo origin (Node, its own process, no added delay) reached directly: what every request costs without a cache.',
      url: ctx.origin.url,
      path: () => HOT,
      pathLabel: HOT,
      connections: options.connections,
      offload: false,
    })
  }

  if (want('redis-hit')) {
    const worker = await run.startTiercache('tiercache-redis', { MEMORY_MAX_BYTES: NO_MEMORY_BUDGET, EDGE_CACHE: 'off' })
    await prewarm(worker, 'redis')
    await measure({
      id: 'redis-hit',
      title: 'tiercache Redis hit',
      group: 'tiercache',
      description: `Memory admits nothing and \`EDGE_CACHE=off\`, so every request is one Upstash REST lookup; ${options.rotatingKeys} pre-warmed URLs in rotation.`,
      url: worker.url,
      path: rotating,
      pathLabel: rotatingLabel,
      connections: options.connections,
      headers: WORKER_HEADERS,
      workers: [worker],
    })
    await worker.stop()
  }

  if (want('redis-hit-user')) {
    const worker = await run.startTiercache('tiercache-redis-user', { MEMORY_MAX_BYTES: NO_MEMORY_BUDGET, EDGE_CACHE: 'off', ROUTES: USER_ROUTES })
    const paths = Array.from({ length: options.rotatingKeys }, (_, i) => userResource(`bench-k${i}`))
    for (const p of paths) await worker.get(p, { headers: USER_HEADERS })
    await sleep(300)
    const seen = servedBy((await worker.get(paths[0]!, { headers: USER_HEADERS })).header('cache-status'))
    if (seen !== 'redis') notes.push(`tiercache-redis-user: after pre-warming, the first per-user URL came from ${seen} (expected redis).`)
    await measure({
      id: 'redis-hit-user',
      title: 'tiercache per-user Redis hit',
      group: 'tiercache',
      description: `The Redis hit on a \`perUser\` route: memory admits nothing and \`EDGE_CACHE=off\` (per-user entries never go to the edge anyway); ${options.rotatingKeys} pre-warmed URLs of one user in rotation.`,
      url: worker.url,
      path: () => {
        let i = 0
        return () => paths[i++ % paths.length]!
      },
      pathLabel: userResource(`bench-k{0..${options.rotatingKeys - 1}}`),
      connections: options.connections,
      headers: USER_HEADERS,
      workers: [worker],
    })
    await worker.stop()
  }

  // tiercache's miss (all three tiers on) and hono/cache's miss (origin fetch + cache.put), interleaved.
  if ((want('miss') && main) || want('hono-miss')) {
    const pair: ThroughputDefinition[] = []
    let hono: WorkerProcess | undefined
    if (want('hono-miss')) {
      hono = await startWorker({ name: 'hono-cache-miss', scriptPath: bundles.honoCache, bindings: { ORIGIN_URL: ctx.origin.url }, logFile: path.join(logDir, 'hono-cache-miss.log') })
      let h = 0
      pair.push({
        id: 'hono-miss',
        title: 'hono/cache miss',
        group: 'baseline',
        description: '`hono/cache` with a URL never requested before on every request: Cache API lookup, origin fetch (no added delay), `cache.put` in `waitUntil`: the baseline for tiercache\'s miss CPU.',
        url: hono.url,
        path: () => () => resource(`hmiss-${run.runId}-${h++}`),
        pathLabel: resource(`hmiss-${run.runId}-{n}`),
        connections: options.connections,
        headers: WORKER_HEADERS,
        offload: false,
        cpu: [hono],
      })
    }
    if (want('miss') && main) {
      let n = 0
      pair.push({
        id: 'miss',
        title: 'tiercache miss',
        group: 'tiercache',
        description: 'A URL never requested before on every request: memory, edge and Redis miss, origin fetch (no added delay), then fills of all three tiers.',
        url: main.url,
        path: () => () => resource(`miss-${run.runId}-${n++}`),
        pathLabel: resource(`miss-${run.runId}-{n}`),
        connections: options.connections,
        headers: WORKER_HEADERS,
        workers: [main],
      })
    }
    scenarios.push(...(await runInterleaved(ctx, pair)))
    await hono?.stop()
  }
  if (main) await main.stop()
}

/**
 * The data API (tiercache/data) against what a Worker author would write without it, in one worker bundle
 * (scripts/bench/baselines/data-worker.ts), repetitions interleaved: a `getOrSet` memory hit against a plain
 * `Map` lookup, and a `getOrSet` Redis hit (memory admits nothing, `EDGE_CACHE=off`) against a bare
 * `@upstash/redis` `GET` of the same JSON. Both answer the value as JSON; the Redis pair rotates over
 * pre-warmed keys, so no request joins another's flight.
 */
async function dataScenarios(run: Run, redis: { url: string; prefix: string }): Promise<void> {
  const { options, ctx, bundles, logDir, notes, scenarios, want } = run
  const start = (name: string, extra: Record<string, string> = {}) =>
    startWorker({
      name,
      scriptPath: bundles.data,
      bindings: { UPSTASH_REDIS_REST_URL: redis.url, UPSTASH_REDIS_REST_TOKEN: UPSTASH_TOKEN, REDIS_PREFIX: redis.prefix, REDIS_TIMEOUT_MS: String(options.redisTimeoutMs), ...extra },
      logFile: path.join(logDir, `${name}.log`),
    })
  const fixed = (p: string) => ({ path: () => p, pathLabel: p, connections: options.connections, headers: WORKER_HEADERS })
  if (want('data-memory-hit') || want('data-map')) {
    const worker = await start('data-memory')
    for (const p of ['/get-or-set/hot', '/map/hot']) await worker.get(p)
    const hit = await worker.get('/get-or-set/hot')
    if (!/desc="memory-hit"/.test(hit.header('server-timing') ?? '')) notes.push(`data-memory: the warm getOrSet was not a memory hit (${hit.header('server-timing')}).`)
    const pair: ThroughputDefinition[] = []
    if (want('data-memory-hit')) {
      pair.push({ ...fixed('/get-or-set/hot'), id: 'data-memory-hit', title: 'data API getOrSet memory hit', group: 'tiercache', description: 'dataCache(c).getOrSet of one warm key answered from the memory tier, the value sent as JSON (it is decoded per call, so callers get their own copy).', url: worker.url, cpu: [worker], offload: false })
    }
    if (want('data-map')) {
      pair.push({ ...fixed('/map/hot'), id: 'data-map', title: 'plain Map lookup', group: 'baseline', description: 'The same value from a module-scope Map in the same worker, sent as JSON: the cheapest in-isolate cache.', url: worker.url, cpu: [worker], offload: false })
    }
    scenarios.push(...(await runInterleaved(ctx, pair, options.pairedReps)))
    await worker.stop()
  }
  if (want('data-redis-hit') || want('data-upstash-get')) {
    const worker = await start('data-redis', { MEMORY_MAX_BYTES: NO_MEMORY_BUDGET, EDGE_CACHE: 'off' })
    const keys = Array.from({ length: options.rotatingKeys }, (_, i) => `k${i}`)
    for (const k of keys) {
      await worker.get(`/get-or-set/${k}`)
      await worker.get(`/seed/${k}`, { method: 'POST' })
    }
    await sleep(300)
    const hit = await worker.get(`/get-or-set/${keys[0]}`)
    if (!/desc="redis-hit"/.test(hit.header('server-timing') ?? '')) notes.push(`data-redis: the warm getOrSet was not a Redis hit (${hit.header('server-timing')}).`)
    const rotating = (route: string) => ({
      path: () => {
        let i = 0
        return () => `${route}${keys[i++ % keys.length]}`
      },
      pathLabel: `${route}k{0..${keys.length - 1}}`,
      connections: options.connections,
      headers: WORKER_HEADERS,
    })
    const pair: ThroughputDefinition[] = []
    if (want('data-redis-hit')) {
      pair.push({ ...rotating('/get-or-set/'), id: 'data-redis-hit', title: 'data API getOrSet Redis hit', group: 'tiercache', description: `Memory admits nothing and \`EDGE_CACHE=off\`: every getOrSet is one Upstash request (the lookup script), ${keys.length} pre-warmed keys in rotation.`, url: worker.url, cpu: [worker], offload: false })
    }
    if (want('data-upstash-get')) {
      pair.push({ ...rotating('/upstash-get/'), id: 'data-upstash-get', title: 'bare @upstash/redis GET', group: 'baseline', description: `The same JSON read with a default \`@upstash/redis\` client's \`get\` in the same worker, ${keys.length} keys in rotation.`, url: worker.url, cpu: [worker], offload: false })
    }
    scenarios.push(...(await runInterleaved(ctx, pair, options.pairedReps)))
    await worker.stop()
  }
}

/**
 * Start-up (issue 11 target 5): the minified bundles as wrangler reports them, then fresh worker processes
 * of tiercache (every tier on) and of the hono/cache worker, alternating: each one's start-up to `ready` and
 * its first response (a miss on a fresh isolate: for tiercache also the first purge-log read and the Redis
 * lookup), then a second miss on the now warm isolate.
 */
async function startupScenario(run: Run): Promise<StartupResult> {
  const { ctx, bundles, logDir, runId, options } = run
  ctx.log('startup: bundle sizes (wrangler deploy --dry-run --minify)')
  const sizes = [await bundleSize('tiercache', 'src/worker.ts'), await bundleSize('hono-cache', 'scripts/bench/baselines/hono-cache-worker.ts')]
  const result: StartupResult = { bundles: sizes, tiercache: [], hono: [] }
  const timed = async (worker: WorkerProcess, p: string) => {
    const started = performance.now()
    const res = await worker.get(p, { headers: WORKER_HEADERS })
    return { ms: performance.now() - started, status: res.status }
  }
  const cold = async (worker: WorkerProcess, id: string): Promise<ColdStart> => {
    const first = await timed(worker, resource(`cold-${runId}-${id}-a`))
    const second = await timed(worker, resource(`cold-${runId}-${id}-b`))
    await worker.stop()
    return { startupMs: worker.startupMs, firstMs: first.ms, secondMs: second.ms, status: first.status }
  }
  const starts = options.coldStarts
  for (let i = 0; i < starts; i++) {
    result.tiercache.push(await cold(await run.startTiercache(`tiercache-cold-${i}`, {}, false), `t${i}`))
    const hono = await startWorker({ name: `hono-cold-${i}`, scriptPath: bundles.honoCache, bindings: { ORIGIN_URL: ctx.origin.url }, logFile: path.join(logDir, `hono-cold-${i}.log`) })
    result.hono.push(await cold(hono, `h${i}`))
    ctx.log(`startup: ${i + 1}/${starts} first response tiercache ${result.tiercache.at(-1)!.firstMs.toFixed(1)} ms, hono/cache ${result.hono.at(-1)!.firstMs.toFixed(1)} ms`)
  }
  return result
}

/**
 * The Zipf mix against an 80 ms origin and 3 ms Upstash: at full speed (throughput, offload), and open
 * loop at a fixed rate next to the same requests sent straight to the origin (latency at equal load).
 * The three run interleaved after one warm-up, so they see the same cache state and the same machine.
 */
async function zipfScenarios(run: Run): Promise<ZipfFigures | undefined> {
  const { options, ctx, scenarios, want } = run
  // The warm-up (-1) uses the base seed; repetition r of each pass its own seed after it.
  const seedFor = (pass: number, rep: number) => (rep < 0 ? options.seed : options.seed + 1 + pass * options.reps + rep)
  const zipfPaths = (seed: number) => {
    const zipf = createZipf({ n: options.zipfKeys, s: options.zipfS, seed })
    return () => resource(`z${zipf.next()}`)
  }
  const rate = options.zipfPacedRate
  const noCache: ThroughputDefinition = {
    id: 'origin-80ms',
    title: `Origin direct, ${options.originLatencyMs} ms, ${rate} req/s`,
    group: 'baseline',
    description: `The Zipf requests sent straight to the origin with ${options.originLatencyMs} ms added, open loop at ${rate} req/s: the no-cache latency.`,
    url: ctx.origin.url,
    path: (rep) => zipfPaths(seedFor(2, rep)),
    pathLabel: resource('z{zipf}'),
    connections: options.zipfConnections,
    rate: () => rate,
    durationS: options.zipfPacedDurationS,
    offload: false,
    warmUp: async () => {},
  }
  if (!want('zipf')) {
    await ctx.origin.setLatency(options.originLatencyMs)
    try {
      scenarios.push(await runThroughput(ctx, noCache))
    } finally {
      await ctx.origin.setLatency(0)
    }
    return undefined
  }

  const worker = await run.startTiercache('tiercache-zipf')
  await ctx.upstash.setLatency(options.upstashLatencyMs)
  let warmupOffload = Number.NaN
  const common = { group: 'tiercache' as const, url: worker.url, pathLabel: resource('z{zipf}'), connections: options.zipfConnections, headers: WORKER_HEADERS, workers: [worker] }
  const saturated: ThroughputDefinition = {
    ...common,
    id: 'zipf',
    title: `tiercache Zipf mix (${options.originLatencyMs} ms origin)`,
    description:
      `Zipf s=${options.zipfS} over ${options.zipfKeys.toLocaleString('en-US')} keys, origin +${options.originLatencyMs} ms, Upstash +${options.upstashLatencyMs} ms, ` +
      `after ${options.zipfWarmupRequests.toLocaleString('en-US')} warm-up requests, as fast as ${options.zipfConnections} connections go; a fresh worker process with default budgets.`,
    path: (rep) => zipfPaths(seedFor(0, rep)),
    warmUp: async () => {
      const before = await ctx.origin.stats()
      const load =
        options.zipfWarmupRequests > 0
          ? await runLoad({ url: worker.url, path: zipfPaths(seedFor(0, -1)), connections: options.zipfConnections, amount: options.zipfWarmupRequests, headers: WORKER_HEADERS })
          : undefined
      await sleep(300)
      const after = await ctx.origin.stats()
      warmupOffload = load ? 1 - (after.requests - before.requests) / Math.max(1, load.responses) : Number.NaN
      ctx.log(`zipf: warm-up ${load?.responses ?? 0} requests (origin delay off), offload ${(warmupOffload * 100).toFixed(1)} %`)
      await ctx.origin.setLatency(options.originLatencyMs)
    },
  }
  const paced: ThroughputDefinition = {
    ...common,
    id: 'zipf-paced',
    title: `tiercache Zipf mix, ${rate} req/s`,
    description: `The same mix, open loop at ${rate} req/s like the no-cache run: latency at equal load rather than queueing at saturation.`,
    path: (rep) => zipfPaths(seedFor(1, rep)),
    rate: () => rate,
    durationS: options.zipfPacedDurationS,
    warmUp: async () => {},
  }
  try {
    const [result, pacedResult, noCacheResult] = (await runInterleaved(ctx, want('origin-80ms') ? [saturated, paced, noCache] : [saturated, paced])) as [
      ThroughputResult,
      ThroughputResult,
      ThroughputResult | undefined,
    ]
    scenarios.push(result, pacedResult, ...(noCacheResult ? [noCacheResult] : []))
    const noCacheMean = noCacheResult?.median.mean ?? Number.NaN
    const noEdge = want('zipf-no-edge')
      ? await zipfWithoutEdge(run, paced, seedFor(0, -1), (rep) => ({ path: zipfPaths(seedFor(0, rep)), amount: result.runs[rep]?.load.responses ?? 0 }), zipfPaths)
      : undefined
    return {
      keys: options.zipfKeys,
      s: options.zipfS,
      seeds: [options.seed, ...Array.from({ length: 3 * options.reps }, (_, i) => options.seed + 1 + i)],
      warmupRequests: options.zipfWarmupRequests,
      warmupOffload,
      expectedColdShareAfterWarmup: expectedColdShare(createZipf({ n: options.zipfKeys, s: options.zipfS, seed: 0 }), options.zipfWarmupRequests),
      originLatencyMs: options.originLatencyMs,
      upstashLatencyMs: options.upstashLatencyMs,
      pacedRate: rate,
      meanLatencyMs: pacedResult.median.mean,
      saturatedMeanLatencyMs: result.median.mean,
      noCacheMeanLatencyMs: noCacheMean,
      latencyImprovement: noCacheMean / pacedResult.median.mean,
      saturatedLatencyImprovement: noCacheMean / result.median.mean,
      ...(noEdge ? { noEdgeMeanLatencyMs: noEdge.median.mean, noEdgeLatencyImprovement: noCacheMean / noEdge.median.mean } : {}),
    }
  } finally {
    await ctx.origin.setLatency(0)
    await ctx.upstash.setLatency(0)
    await worker.stop()
  }
}

/**
 * The paced Zipf pass again on a fresh worker with `EDGE_CACHE=off`, given the same request history as the
 * default worker: the same warm-up, and before each paced repetition the same requests its full-speed
 * repetition made (replayed with the origin delay off, outside the measurement), then the paced
 * repetition with the same seed. Locally the Cache API is Miniflare's simulation, which runs inside the
 * worker's own workerd process (a lookup and a put on every miss), where Cloudflare's is a separate
 * service. The two passes side by side show what the simulated edge tier cost the Zipf latency in a run:
 * 17.8x against 24.4x in one run while this was built, 23.4x against 22.9x in another.
 */
async function zipfWithoutEdge(
  run: Run,
  paced: ThroughputDefinition,
  warmupSeed: number,
  saturatedHistory: (rep: number) => { path: () => string; amount: number },
  zipfPaths: (seed: number) => () => string
): Promise<ThroughputResult> {
  const { options, ctx, scenarios } = run
  // Its own Redis prefix: the earlier passes filled Redis with these keys, and this worker must start as
  // cold as the default one did (a shared prefix turned every miss into a Redis hit).
  const worker = await run.startTiercache('tiercache-zipf-no-edge', { EDGE_CACHE: 'off', REDIS_PREFIX: `bench:${run.runId}:no-edge:` })
  const replay = async (path: () => string, amount: number) => {
    if (amount <= 0) return
    await ctx.origin.setLatency(0)
    await runLoad({ url: worker.url, path, connections: options.zipfConnections, amount, headers: WORKER_HEADERS })
    await sleep(300)
    await ctx.origin.setLatency(options.originLatencyMs)
  }
  try {
    const def: ThroughputDefinition = {
      ...paced,
      id: 'zipf-no-edge',
      title: `tiercache Zipf mix, ${options.zipfPacedRate} req/s, edge tier off`,
      description:
        'The paced Zipf pass on a fresh worker with `EDGE_CACHE=off`, after the same warm-up and the same full-speed requests the default ' +
        'worker saw (replayed with the origin delay off): the local Cache API is a simulation inside the worker\'s own workerd process, so ' +
        'the difference from the default pass is what the simulated edge tier cost.',
      url: worker.url,
      workers: [worker],
      warmUp: () => replay(zipfPaths(warmupSeed), options.zipfWarmupRequests),
      beforeRepetition: (rep) => {
        const history = saturatedHistory(rep)
        return replay(history.path, history.amount)
      },
    }
    const result = await runThroughput(ctx, def)
    scenarios.push(result)
    return result
  } finally {
    await worker.stop()
  }
}

/** Stampede and purge, across two fresh worker processes sharing Redis. */
async function coherenceScenarios(run: Run): Promise<{ stampede?: StampedeResult; purge?: PurgeResult }> {
  const { options, ctx, notes, want, runId } = run
  if (!want('stampede') && !want('purge')) return {}
  const a = await run.startTiercache('tiercache-a')
  const b = await run.startTiercache('tiercache-b')
  const out: { stampede?: StampedeResult; purge?: PurgeResult } = {}
  if (want('stampede')) {
    out.stampede = await runStampede(ctx, {
      workers: [a, b],
      concurrency: options.stampedeConcurrency,
      originLatencyMs: options.originLatencyMs,
      reps: options.stampedeReps,
      keyPrefix: `stampede-${runId}`,
    })
  }
  if (want('purge')) {
    ctx.log('purge: probing POST /__tiercache/purge')
    out.purge = await runPurge(ctx, { workers: [a, b], secret: PURGE_SECRET, trials: options.purgeTrials, deadlineMs: options.deltaMs + 5000, keyPrefix: `bench-${runId}` })
    if (!out.purge.available) ctx.log(`purge: ${out.purge.reason}`)
  }
  const memory = await memoryReports([a, b])
  if (memory.some((m) => m.peakBytes > m.maxBytes)) notes.push(`Memory budget exceeded in the stampede/purge workers: ${JSON.stringify(memory)}`)
  await a.stop()
  await b.stop()
  return out
}

/** Upstash Global beside single-region (scenarios/global.ts), on a global database of its own. */
async function globalScenarios(run: Run, single: UpstashControl): Promise<GlobalRow[]> {
  const { options, ctx, logDir, runId } = run
  ctx.log('global: starting a primary, a replica and upstash-local in global mode')
  const service = await startService('upstash-global', { token: UPSTASH_TOKEN }, path.join(logDir, 'upstash-global.log'))
  try {
    return await runGlobal({
      ctx,
      single,
      global: new UpstashControl(service.url, UPSTASH_TOKEN),
      runId,
      stampedeConcurrency: options.stampedeConcurrency,
      purgeTrials: Math.min(options.purgeTrials, 5),
      deltaMs: options.deltaMs,
      purgeSecret: PURGE_SECRET,
      startTiercache: (name, extra) => run.startTiercache(name, extra),
    })
  } finally {
    await service.stop()
  }
}

let options: BenchOptions | 'help'
try {
  options = parseOptions(process.argv.slice(2))
} catch (error) {
  console.error(`bench: ${(error as Error).message}\n\n${USAGE}`)
  process.exit(2)
}
if (options === 'help') {
  console.log(USAGE)
  process.exit(0)
}
installSignalHandlers('bench')
let code = 0
try {
  await main(options)
} catch (error) {
  if (!interrupted()) console.error(error)
  code = 1
} finally {
  await cleanupAll()
}
process.exit(code)
