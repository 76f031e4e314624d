/**
 * @module Puts the Node side (vitest's V8 coverage, already istanbul) and every workerd process
 * together into three coverage maps over the same statements, branches and functions of `src/`:
 * Node only, workerd only, and both (the sum). The Node side's maps describe each file (vitest lists
 * every file under `src/`, loaded or not); the workerd side is laid onto them (project.ts).
 */
import { readFileSync } from 'node:fs'
import libCoverage, { type CoverageMap, type CoverageMapData, type FileCoverageData } from 'istanbul-lib-coverage'
import { bundleCoverage } from './bundle-coverage.ts'
import { addCounts, projectOnto, zeroCounts, type ProjectionStats } from './project.ts'
import type { RawWorkerdCoverage } from './raw-coverage.ts'

export interface MergedCoverage {
  node: CoverageMap
  workerd: CoverageMap
  combined: CoverageMap
  /** Worker processes whose coverage went in, per bundle. */
  bundles: { scriptPath: string; processes: number }[]
  /** How the workerd side matched the Node side's maps, summed over files and bundles. */
  projection: ProjectionStats
  warnings: string[]
}

/**
 * JSON turns an end column "at end of line" (`Infinity`) into `null`; the reporters expect a number
 * there, so it is restored.
 */
function reviveEndColumns(data: FileCoverageData): FileCoverageData {
  const revive = <T extends { end: { column: number | null } }>(loc: T): T =>
    loc.end.column === null ? { ...loc, end: { ...loc.end, column: Infinity } } : loc
  return {
    ...data,
    statementMap: Object.fromEntries(Object.entries(data.statementMap).map(([k, r]) => [k, revive(r)])),
    fnMap: Object.fromEntries(Object.entries(data.fnMap).map(([k, f]) => [k, { ...f, decl: revive(f.decl), loc: revive(f.loc) }])),
    branchMap: Object.fromEntries(
      Object.entries(data.branchMap).map(([k, b]) => [k, { ...b, loc: revive(b.loc), locations: b.locations.map(revive) }])
    ),
  }
}

/** Reads vitest's `coverage-final.json`. */
export function readNodeCoverage(file: string): CoverageMapData {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, FileCoverageData>
  return Object.fromEntries(Object.entries(data).map(([path, fc]) => [path, reviveEndColumns(fc)]))
}

/** Merges the Node side with the raw coverage of every worker process. */
export async function mergeCoverage(nodeData: CoverageMapData, workerdRuns: RawWorkerdCoverage[], srcDir: string): Promise<MergedCoverage> {
  const workerdSide = await bundleCoverage(workerdRuns, srcDir)
  const node = libCoverage.createCoverageMap({})
  const workerd = libCoverage.createCoverageMap({})
  const combined = libCoverage.createCoverageMap({})
  const projection: ProjectionStats = { matched: 0, unmatchedCanonical: 0, lostCovered: 0 }
  const warnings = [...workerdSide.warnings]

  for (const file of Object.keys(nodeData).sort()) {
    const nodeFile = libCoverage.createFileCoverage(nodeData[file]!).data
    let workerdFile = zeroCounts(nodeFile)
    for (const bundle of workerdSide.bundles) {
      if (!bundle.map.files().includes(file)) continue
      const projected = projectOnto(nodeFile, bundle.map.fileCoverageFor(file).data)
      workerdFile = addCounts(workerdFile, projected.data)
      for (const key of Object.keys(projection) as (keyof ProjectionStats)[]) projection[key] += projected.stats[key]
    }
    node.addFileCoverage(nodeFile)
    workerd.addFileCoverage(workerdFile)
    combined.addFileCoverage(addCounts(nodeFile, workerdFile))
  }
  for (const file of new Set(workerdSide.bundles.flatMap((b) => b.map.files()))) {
    if (!(file in nodeData)) warnings.push(`${file} ran in workerd but is not in the Node side's file list; left out`)
  }
  const bundles = workerdSide.bundles.map(({ scriptPath, processes }) => ({ scriptPath, processes }))
  return { node, workerd, combined, bundles, projection, warnings }
}
