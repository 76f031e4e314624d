/**
 * @module `npm run bench:profile`: a CPU profile of one worker scenario, taken inside workerd through its
 * V8 inspector while autocannon drives it, so hot-path work can be attributed to functions. Figures from a
 * sampling profile are shares of the worker thread's time, not throughput: `npm run bench` gives those.
 *
 * Usage: `npm run bench:profile -- [--path /etag/bench-k{k}?max-age=3600] [--keys 256] [--seconds 5]
 * [--memory-max-bytes N] [--edge on|off] [--top 40] [--cpu-only] [--script dist/x.js]`. `{k}` in the path
 * rotates over `--keys` pre-warmed URLs (so concurrent requests do not collapse onto one key);
 * `--memory-max-bytes 64` profiles edge hits.
 *
 * It also prints the workerd process's CPU time per request (user + system from /proc, Linux): on a busy
 * machine a sampling profile is mostly noise, while CPU time per request stays comparable between two
 * builds. `--cpu-only` skips the profiler (whose sampling costs CPU too) and prints only that figure;
 * `--script` runs an already-built bundle instead of building `src/worker.ts` (an older build, to compare).
 *
 * `--redis` adds the Redis tier (the local Upstash-compatible server over the shared redis-server on
 * 127.0.0.1:6379, a fresh key prefix), so every tier is on. `{n}` in the path is a counter that never
 * repeats: `--redis --path '/etag/miss-{n}?max-age=3600'` profiles misses that fill all three tiers.
 *
 * `--instructions N` runs workerd under valgrind's callgrind (instrumentation off until the warm-up is
 * done) and prints the instructions executed per request over N requests: a count that does not depend on
 * what else the machine is doing, so two builds compare exactly even on a shared machine (valgrind must be
 * installed; about 50× slower, so keep N in the thousands).
 */
import { parseArgs } from 'node:util'
import { writeFile } from 'node:fs/promises'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { Miniflare } from 'miniflare'
import { buildWorker, bundleDir, projectRoot } from '../build-worker.ts'
import { startDemoOrigin } from '../demo-origin/server.ts'
import { startUpstashLocal } from '../upstash-local/server.ts'
import { COMPATIBILITY_DATE } from './workers.ts'
import { cpuMicros, findDescendant } from './process-cpu.ts'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const { values } = parseArgs({
  options: {
    path: { type: 'string', default: '/etag/bench-hot?max-age=3600' },
    keys: { type: 'string', default: '256' },
    seconds: { type: 'string', default: '5' },
    'memory-max-bytes': { type: 'string' },
    edge: { type: 'string', default: 'on' },
    top: { type: 'string', default: '40' },
    'inspector-port': { type: 'string', default: '9239' },
    'cpu-only': { type: 'boolean', default: false },
    script: { type: 'string' },
    instructions: { type: 'string' },
    redis: { type: 'boolean', default: false },
  },
})

/** Runs workerd under callgrind with collection off; returns the dump directory. */
function underCallgrind(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tiercache-callgrind-'))
  const wrapper = path.join(dir, 'workerd.sh')
  const workerd = path.join(projectRoot, 'node_modules', '@cloudflare', 'workerd-linux-64', 'bin', 'workerd')
  writeFileSync(wrapper, `#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=${dir}/cg.%p.out ${workerd} "$@"\n`)
  chmodSync(wrapper, 0o755)
  process.env['MINIFLARE_WORKERD_PATH'] = wrapper
  return dir
}

/** Total instructions (`Ir`) recorded in the callgrind dumps of `dir`. */
function instructionsIn(dir: string): number {
  let total = 0
  for (const file of readdirSync(dir).filter((f) => f.startsWith('cg.'))) {
    const match = /^totals:\s*(\d+)/m.exec(readFileSync(path.join(dir, file), 'utf8'))
    if (match) total += Number(match[1])
  }
  return total
}

/** A minimal Chrome DevTools Protocol session over the inspector's WebSocket. */
async function devtools(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string; title: string }>
  const target = targets.find((t) => t.title.includes('tiercache')) ?? targets[0]
  if (!target) throw new Error('no inspector target')
  const socket = new WebSocket(target.webSocketDebuggerUrl)
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true })
    socket.addEventListener('error', reject, { once: true })
  })
  let next = 1
  const pending = new Map<number, (value: unknown) => void>()
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown }
    if (message.id !== undefined) pending.get(message.id)?.(message.error ? Promise.reject(new Error(JSON.stringify(message.error))) : message.result)
  })
  return {
    send<T>(method: string, params: object = {}): Promise<T> {
      const id = next++
      socket.send(JSON.stringify({ id, method, params }))
      return new Promise<T>((resolve) => pending.set(id, resolve as (value: unknown) => void))
    },
    close: () => socket.close(),
  }
}

/** Self and inclusive time per function, from a V8 CPU profile. */
function summarise(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${path.basename(n.callFrame.url) || ''}:${n.callFrame.lineNumber + 1}`
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  let all = 0
  let idle = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    const node = byId.get(id)!
    all += dt
    if (node.callFrame.functionName === '(idle)') idle += dt
    self.set(label(node), (self.get(label(node)) ?? 0) + dt)
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!)
      if (seen.has(l)) continue
      seen.add(l)
      total.set(l, (total.get(l) ?? 0) + dt)
    }
  })
  return { self, total, all, idle }
}

const callgrindDir = values.instructions ? underCallgrind() : undefined
const origin = await startDemoOrigin()
const scriptPath = values.script ? path.resolve(values.script) : await buildWorker('src/worker.ts', path.join(bundleDir, 'bench', 'profile.js'))
const bindings: Record<string, string> = { ORIGIN_URL: origin.url, EDGE_CACHE: values.edge! }
if (values['memory-max-bytes']) bindings['MEMORY_MAX_BYTES'] = values['memory-max-bytes']
const upstash = values.redis ? await startUpstashLocal({ port: 0, token: 'profile-token', redisHost: '127.0.0.1', redisPort: 6379 }) : undefined
if (upstash) {
  bindings['UPSTASH_REDIS_REST_URL'] = upstash.url
  bindings['UPSTASH_REDIS_REST_TOKEN'] = 'profile-token'
  bindings['REDIS_PREFIX'] = `profile-${process.pid}-${Date.now()}:`
  // Generous: under callgrind (about 50× slower) a 150 ms deadline would turn every lookup into a timeout.
  bindings['REDIS_TIMEOUT_MS'] = '10000'
  // One purge-log read per δ is not per-request work, and under callgrind how many fall in the counted
  // window depends on the wall clock: a long δ keeps them out so two builds' counts compare.
  bindings['COHERENCE_DELTA_MS'] = '600000'
}
const mf = new Miniflare({
  name: 'tiercache',
  modules: true,
  scriptPath,
  compatibilityDate: COMPATIBILITY_DATE,
  bindings,
  host: '127.0.0.1',
  port: 0,
  inspectorPort: Number(values['inspector-port']),
  unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
})
try {
  await mf.ready
  const url = (await mf.unsafeGetDirectURL('tiercache')).origin
  const keys = values.path!.includes('{k}') ? Number(values.keys) : 1
  let n = 0
  const pathOf = (k: number) => values.path!.replace('{k}', String(k)).replace('{n}', () => String(n++))
  for (let round = 0; round < 3; round++) for (let k = 0; k < keys; k++) await (await fetch(url + pathOf(k))).arrayBuffer()
  const warm = await fetch(url + pathOf(0))
  console.log(`warm response: ${warm.status} cache-status: ${warm.headers.get('cache-status')}`)
  await warm.arrayBuffer()
  if (callgrindDir) {
    const requests = Number(values.instructions)
    // Our workerd only: without a PID, callgrind_control switches and dumps every callgrind run on the
    // machine, so two profiles at once would count each other's windows.
    const target = findDescendant(process.pid, 'callgrind-amd64')
    if (target === undefined) throw new Error('no callgrind process found under this one (is valgrind installed?)')
    const control = (...args: string[]) => execFileSync('callgrind_control', [...args, String(target)], { stdio: 'ignore' })
    control('-i', 'on')
    let k = 0
    const result = await autocannon({ url, connections: 10, amount: requests, requests: [{ setupRequest: (req) => ({ ...req, path: pathOf(k++ % keys) }) }] })
    control('-i', 'off')
    control('-d')
    const ir = instructionsIn(callgrindDir)
    console.log(`${result.requests.total} requests (${result.non2xx} not 2xx); ${(ir / result.requests.total / 1000).toFixed(1)} k instructions per request in workerd (callgrind)`)
  } else {
  const workerd = findDescendant(process.pid, 'workerd')
  const cpuOnly = values['cpu-only']
  const session = cpuOnly ? undefined : await devtools(Number(values['inspector-port']))
  await session?.send('Profiler.enable')
  await session?.send('Profiler.setSamplingInterval', { interval: 50 })
  await session?.send('Profiler.start')
  let next = 0
  const cpuBefore = workerd === undefined ? undefined : cpuMicros(workerd)
  const result = await autocannon({
    url,
    connections: 10,
    duration: Number(values.seconds),
    requests: [{ setupRequest: (req) => ({ ...req, path: pathOf(next++ % keys) }) }],
  })
  const cpuAfter = workerd === undefined ? undefined : cpuMicros(workerd)
  const cpuLine =
    cpuBefore !== undefined && cpuAfter !== undefined
      ? `workerd CPU ${((cpuAfter - cpuBefore) / result.requests.total).toFixed(1)} µs per request (user + system, /proc${cpuOnly ? '' : ', profiler on'})`
      : 'workerd CPU: not readable here'
  if (!session) {
    console.log(`${result.requests.average} req/s; ${result.requests.total} requests; ${cpuLine}`)
    process.exitCode = 0
  } else {
  const { profile } = await session.send<{ profile: CpuProfile }>('Profiler.stop')
  session.close()
  const out = path.join(bundleDir, 'bench', 'profile.cpuprofile')
  await writeFile(out, JSON.stringify(profile))
  const { self, total, all, idle } = summarise(profile)
  const busy = all - idle
  const perRequest = (us: number) => (us / result.requests.total).toFixed(2)
  console.log(`${result.requests.average} req/s; ${result.requests.total} requests; worker thread busy ${(busy / 1e3).toFixed(0)} ms of ${(all / 1e3).toFixed(0)} ms; ${cpuLine}`)
  console.log(`(µs per request; profile written to ${path.relative(projectRoot, out)}, open it in Chrome DevTools)`)
  const top = Number(values.top)
  console.log('\nself time')
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${perRequest(us).padStart(8)}  ${name}`)
  console.log('\ninclusive time')
  for (const [name, us] of [...total].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${perRequest(us).padStart(8)}  ${name}`)
  }
  }
} finally {
  await mf.dispose()
  await origin.close()
  await upstash?.close()
}
