/**
 * What `npm pack` ships: the built package only (dist, README, LICENSE, CHANGELOG), every `exports` entry
 * present with its types, declarations that resolve without `.ts` sources, and modules that load.
 */
import { build } from 'esbuild'
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { projectRoot } from '../../scripts/build-worker.ts'
import { computeSignature } from '../../src/purge/signature.ts'
import { exec } from '../../scripts/lib/examples.ts'
import { packedTarball, tarballFiles, unpackInto } from '../support/package.ts'

type ExportTarget = { types: string; import: string }
interface PackedManifest {
  private?: boolean
  type: string
  sideEffects: boolean
  types: string
  exports: Record<string, ExportTarget | string>
  files: string[]
  scripts: Record<string, string>
  dependencies: Record<string, string>
  peerDependencies: Record<string, string>
}

describe('the npm package (npm pack)', () => {
  let files: string[]
  let unpacked: string
  let temp: string
  let manifest: PackedManifest

  beforeAll(async () => {
    const tarball = await packedTarball()
    files = (await tarballFiles(tarball)).map((f) => f.replace(/^package\//, ''))
    temp = await mkdtemp(path.join(tmpdir(), 'tiercache-tarball-'))
    unpacked = await unpackInto(tarball, temp)
    manifest = JSON.parse(await readFile(path.join(unpacked, 'package.json'), 'utf8')) as PackedManifest
    // A user's project around it: ESM, with the package's dependencies and the workers types (this project's).
    await writeFile(path.join(temp, 'package.json'), '{ "type": "module" }')
    for (const dep of ['hono', '@upstash', 'cloudflare', 'uncrypto', '@cloudflare']) {
      await symlink(path.join(projectRoot, 'node_modules', dep), path.join(temp, 'node_modules', dep))
    }
  }, 240_000)
  afterAll(() => rm(temp, { recursive: true, force: true }))

  it('holds the built modules and the documents, and nothing else: no sources, tests, scripts, examples or secrets', () => {
    const outside = files.filter((f) => !f.startsWith('dist/'))
    expect(outside.sort()).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json'])
    const strays = files.filter((f) => f.startsWith('dist/') && !/\.(js|js\.map|d\.ts)$/.test(f))
    expect(strays).toEqual([])
    for (const banned of [/^src\//, /^test\//, /^scripts\//, /^examples\//, /\.dev\.vars$/, /\.env$/, /wrangler\.(toml|jsonc?)$/, /\.tgz$/, /(^|\/)build\//]) {
      expect(files.filter((f) => banned.test(f)), String(banned)).toEqual([])
    }
    // Worker bundles for tests and the benchmark go to build/, never into the package.
    expect(files).not.toContain('dist/middleware-app.js')
    expect(files.some((f) => f.startsWith('dist/bench/'))).toBe(false)
  })

  it('maps every public entry point to a module and its declarations, both in the tarball', () => {
    expect(Object.keys(manifest.exports).sort()).toEqual(['.', './data', './package.json', './purge', './purge/signature', './worker'])
    for (const [entry, target] of Object.entries(manifest.exports)) {
      if (typeof target === 'string') continue
      expect(Object.keys(target), entry).toEqual(['types', 'import'])
      expect(files, `${entry} types`).toContain(target.types.replace(/^\.\//, ''))
      expect(files, `${entry} import`).toContain(target.import.replace(/^\.\//, ''))
      expect(files, `${entry} source map`).toContain(`${target.import.replace(/^\.\//, '')}.map`)
    }
    expect(files).toContain(manifest.types.replace(/^\.\//, ''))
  })

  it('is publishable: not private, ESM, free of side effects, hono as a peer and the Redis client as a dependency', () => {
    expect(manifest.private).toBeUndefined()
    expect(manifest.type).toBe('module')
    expect(manifest.sideEffects).toBe(false)
    expect(Object.keys(manifest.peerDependencies)).toEqual(['hono'])
    expect(Object.keys(manifest.dependencies)).toContain('@upstash/redis')
    expect(manifest.dependencies).not.toHaveProperty('hono')
    expect(manifest.scripts.prepack).toBe('npm run build')
  })

  it('declarations import each other as .js, as the compiled modules do (no .ts file is shipped)', async () => {
    const declarations = files.filter((f) => f.endsWith('.d.ts'))
    expect(declarations.length).toBeGreaterThan(10)
    for (const file of declarations) {
      const text = await readFile(path.join(unpacked, file), 'utf8')
      expect(text, file).not.toMatch(/from\s+['"]\.{1,2}\/[^'"]+\.ts['"]/)
    }
    const index = await readFile(path.join(unpacked, 'dist/index.js'), 'utf8')
    expect(index).toContain("from \"./middleware.js\"")
    // The mountable internal routes (purge webhook, health, stats) for a worker author's app.
    expect(index).toMatch(/export \{ tiercacheRoutes \} from "\.\/internal-mount\.js"/)
  })

  it('its types resolve for every entry point under moduleResolution bundler, nodenext and node10 (typesVersions)', async () => {
    await writeFile(
      path.join(temp, 'use.ts'),
      [
        "import { tieredCache, tiercacheRoutes, ConfigError } from 'tiercache'",
        "import { signPurge } from 'tiercache/purge'",
        "import { computeSignature } from 'tiercache/purge/signature'",
        "import worker from 'tiercache/worker'",
        "import { dataCache } from 'tiercache/data'",
        'export const used = [tieredCache, ConfigError, computeSignature, worker.fetch, dataCache]',
        "export const routes: { fetch: (request: Request) => Response | Promise<Response> } = tiercacheRoutes()",
        '// @ts-expect-error: the declarations are real, not any',
        'export const wrong: number = signPurge',
        '',
      ].join('\n')
    )
    const tsc = path.join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc')
    // The declarations themselves are checked once (no skipLibCheck); then only how each resolution finds them.
    for (const [module, resolution, skipLibCheck] of [['esnext', 'bundler', false], ['nodenext', 'nodenext', true], ['esnext', 'node10', true]] as const) {
      const args = [tsc, '--noEmit', '--strict', '--target', 'es2022', '--lib', 'es2023', '--types', '@cloudflare/workers-types', '--module', module, '--moduleResolution', resolution, ...(skipLibCheck ? ['--skipLibCheck'] : []), 'use.ts']
      await exec(process.execPath, args, temp)
    }
  }, 180_000)

  it('source maps carry the sources, which the tarball does not', async () => {
    const map = JSON.parse(await readFile(path.join(unpacked, 'dist/purge/signature.js.map'), 'utf8')) as { sourcesContent?: string[] }
    expect(map.sourcesContent?.[0]).toBe(await readFile(path.join(projectRoot, 'src/purge/signature.ts'), 'utf8'))
  })

  it('the purge helper loads from the package and signs as the worker verifies', async () => {
    const signature = (await import(pathToFileURL(path.join(unpacked, 'dist/purge/signature.js')).href)) as typeof import('../../src/purge/signature.ts')
    const body = '{"tags":["items"]}'
    expect(await signature.computeSignature('s3cret-s3cret-s3cret', 1_700_000_000, body)).toBe(await computeSignature('s3cret-s3cret-s3cret', 1_700_000_000, body))
  })

  it('a user bundle importing only the purge helper pulls in neither hono nor the Redis client (sideEffects: false)', async () => {
    const bundle = async (code: string) => {
      const result = await build({
        stdin: { contents: code, resolveDir: temp, loader: 'ts' },
        bundle: true,
        format: 'esm',
        platform: 'neutral',
        conditions: ['workerd', 'worker', 'browser'],
        mainFields: ['browser', 'module', 'main'],
        write: false,
        metafile: true,
        logLevel: 'silent',
      })
      // The modules that reach the output (parsed ones that tree-shaking dropped have no bytes in it).
      const [output] = Object.values(result.metafile.outputs)
      return Object.entries(output!.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([file]) => file)
    }
    const purgeOnly = await bundle("export { signPurge } from 'tiercache/purge'")
    expect(purgeOnly.filter((f) => f.includes('node_modules/hono') || f.includes('@upstash') || f.includes('node_modules/cloudflare'))).toEqual([])
    // The same helper through the main entry: the barrel's other modules are dropped too.
    const viaBarrel = await bundle("export { signPurge } from 'tiercache'")
    expect(viaBarrel.filter((f) => f.includes('@upstash') || f.includes('middleware'))).toEqual([])
    const middleware = await bundle("export { tieredCache } from 'tiercache'")
    expect(middleware.some((f) => f.includes('@upstash/redis'))).toBe(true)
  })
})
