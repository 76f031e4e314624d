/**
 * @module Maps the V8 coverage a worker process recorded for its bundle back onto the `src/` files in
 * that bundle, as istanbul coverage.
 *
 * The conversion is the one `@vitest/coverage-v8` itself uses for the Node side (ast-v8-to-istanbul over
 * the generated code's AST, parsed by vitest's parser, remapped through the source map), so both sides
 * describe a file with the same kinds of statements, branches and functions and can be laid onto each
 * other (project.ts). Things that bite here:
 * - esbuild writes the map's `sources` relative to the map (`../src/stack.ts`); the converter resolves
 *   them against the bundle's own path, so the coverage URL must be the bundle's real `file://` URL;
 * - the map carries `sourcesContent`, which is what the converter reads as the original text: if `src/`
 *   changed after the bundle was built, lines would be attributed to stale text, so that is reported;
 * - a bundle rebuilt after the workers ran would be read against the wrong offsets, so it is refused.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import convert from 'ast-v8-to-istanbul'
import libCoverage, { type CoverageMap } from 'istanbul-lib-coverage'
import { parseAstAsync } from 'vitest/node'
import { sha256File, type RawWorkerdCoverage } from './raw-coverage.ts'

interface SourceMapJson {
  version: number
  sources: string[]
  sourcesContent?: (string | null)[]
  mappings: string
  names: string[]
}

export interface BundleCoverage {
  /** Absolute path of the bundle. */
  scriptPath: string
  /** Worker processes that ran it. */
  processes: number
  /** Istanbul coverage of its files under `srcDir`, summed over those processes. */
  map: CoverageMap
}

const isUnder = (dir: string, file: string) => !path.relative(dir, file).startsWith('..')

/** Source files (absolute) whose text in the map differs from the file on disk now. */
function staleSources(scriptPath: string, map: SourceMapJson, srcDir: string): string[] {
  const stale: string[] = []
  map.sources.forEach((source, i) => {
    const file = path.resolve(path.dirname(scriptPath), source)
    if (!isUnder(srcDir, file)) return
    let onDisk: string | undefined
    try {
      onDisk = readFileSync(file, 'utf8')
    } catch {
      onDisk = undefined
    }
    if (onDisk !== map.sourcesContent?.[i]) stale.push(file)
  })
  return stale
}

/**
 * Converts every raw record to istanbul coverage of the files under `srcDir`, summed per bundle (two
 * bundles of the same file can disagree on its map, so they are kept apart), with the problems that do
 * not stop the report but make parts of it doubtful.
 */
export async function bundleCoverage(records: RawWorkerdCoverage[], srcDir: string): Promise<{ bundles: BundleCoverage[]; warnings: string[] }> {
  const warnings: string[] = []
  const byBundle = new Map<string, RawWorkerdCoverage[]>()
  for (const record of records) byBundle.set(record.scriptPath, [...(byBundle.get(record.scriptPath) ?? []), record])
  const bundles: BundleCoverage[] = []
  for (const [scriptPath, runs] of byBundle) {
    const map = libCoverage.createCoverageMap({})
    const current = sha256File(scriptPath)
    const shas = new Set(runs.map((r) => r.scriptSha256))
    if (shas.size !== 1 || !shas.has(current)) {
      throw new Error(`${scriptPath} was rebuilt after the worker processes ran; run \`npm run coverage\` again from scratch`)
    }
    const code = readFileSync(scriptPath, 'utf8')
    const sourceMap = JSON.parse(readFileSync(`${scriptPath}.map`, 'utf8')) as SourceMapJson
    for (const file of staleSources(scriptPath, sourceMap, srcDir)) {
      warnings.push(`${path.relative(process.cwd(), file)} changed after ${path.basename(scriptPath)} was built: its workerd lines may be off`)
    }
    const url = pathToFileURL(scriptPath).href
    for (const run of runs) {
      // ast-v8-to-istanbul rewrites parts of the AST it walks, so each run gets a fresh parse.
      const converted = await convert({ code, sourceMap, ast: parseAstAsync(code), coverage: { url, functions: run.functions } })
      for (const [file, data] of Object.entries(converted)) {
        if (isUnder(srcDir, file)) map.addFileCoverage(data)
      }
    }
    bundles.push({ scriptPath, processes: runs.length, map })
  }
  return { bundles, warnings }
}
