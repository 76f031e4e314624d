/**
 * @module The branch arms no test ever took (Node or workerd), file by file, with the source line, so
 * whoever writes the next test can see what is left.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { BranchMapping, CoverageMap } from 'istanbul-lib-coverage'

export interface UncoveredArm {
  line: number
  /** The branch's kind and which arm, e.g. `if, else`, `?:, true`, `&&/||/??, operand 2 of 2`. */
  arm: string
  /** The source line, trimmed. */
  source: string
}

/** Names the arm `i` of a branch the way a reader of the code would. */
function armName(branch: BranchMapping, i: number): string {
  switch (branch.type) {
    case 'if':
      // An `if` without `else` still has two arms: the second is falling through.
      return i === 0 ? 'if, then' : 'if, else/fall-through'
    case 'cond-expr':
      return `?:, ${i === 0 ? 'true' : 'false'}`
    case 'default-arg':
      return 'default parameter value'
    case 'switch':
      return `switch, case ${i + 1}`
    case 'binary-expr':
      // A never-taken operand of a logical chain is one that was never evaluated.
      return `&&/||/??, operand ${i + 1} of ${branch.locations.length}`
    default:
      return `${branch.type}, arm ${i + 1}`
  }
}

/** Every never-taken arm, by file (relative to `root`), files with none left out. */
export function uncoveredBranches(map: CoverageMap, root: string): Map<string, UncoveredArm[]> {
  const out = new Map<string, UncoveredArm[]>()
  for (const file of map.files()) {
    const fc = map.fileCoverageFor(file)
    const lines = readFileSync(file, 'utf8').split('\n')
    const arms: UncoveredArm[] = []
    for (const [key, counts] of Object.entries(fc.b)) {
      const branch = fc.branchMap[key]!
      counts.forEach((count, i) => {
        if (count > 0) return
        const line = (branch.locations[i] ?? branch.loc).start.line || branch.loc.start.line
        arms.push({ line, arm: armName(branch, i), source: (lines[line - 1] ?? '').trim() })
      })
    }
    if (arms.length > 0) out.set(path.relative(root, file), arms.sort((a, b) => a.line - b.line))
  }
  return out
}

/** The list as text (`coverage/uncovered-branches.txt`). */
export function formatUncoveredBranches(byFile: Map<string, UncoveredArm[]>): string {
  const parts: string[] = [
    'Branch arms that no test took, in Node or in workerd (npm run coverage). An operand of a',
    '&&/||/?? chain is listed when it was never evaluated.',
    '',
  ]
  for (const [file, arms] of byFile) {
    parts.push(`${file} — ${arms.length} arm${arms.length === 1 ? '' : 's'} never taken`)
    for (const a of arms) parts.push(`  L${String(a.line).padEnd(5)} ${a.arm.padEnd(26)} ${a.source.slice(0, 110)}`)
    parts.push('')
  }
  return parts.join('\n')
}
