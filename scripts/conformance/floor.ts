/**
 * @module The conformance floor: the figures tiercache must not fall below, kept in `floor.json` beside
 * this file. CI runs the suite and fails when any figure drops, naming it. `--update-floor` raises the
 * floor to a better run; lowering it takes `--force` as well, so a regression is always a deliberate,
 * reviewed change to floor.json.
 */
import fs from 'node:fs/promises'
import { figuresOf, type Classification } from './classify.ts'

/** The floor's figures. Pass counts may not fall below it; `maxNotScored` may not be exceeded. */
export interface Floor {
  /** Shared-cache (RFC 9111) required tests passed. */
  requiredPass: number
  /** Shared-cache optional ("optimal") tests passed. */
  optionalPass: number
  /** CDN-Cache-Control (RFC 9213) required tests passed. */
  cdnRequiredPass: number
  /** CDN-Cache-Control optional tests passed. */
  cdnOptionalPass: number
  /** Tests not scored (setup, dependency, harness, retry, untested), both scopes together: at most this many. */
  maxNotScored: number
}

/** The floor's fields in report order, with a label and the direction that is better. */
export const FLOOR_FIELDS: ReadonlyArray<{ key: keyof Floor; label: string; better: 'higher' | 'lower' }> = [
  { key: 'requiredPass', label: 'shared-cache required passed', better: 'higher' },
  { key: 'optionalPass', label: 'shared-cache optional passed', better: 'higher' },
  { key: 'cdnRequiredPass', label: 'CDN-Cache-Control required passed', better: 'higher' },
  { key: 'cdnOptionalPass', label: 'CDN-Cache-Control optional passed', better: 'higher' },
  { key: 'maxNotScored', label: 'not scored (both scopes)', better: 'lower' },
]

/** One figure compared with the floor. */
export interface FloorComparison {
  key: keyof Floor
  label: string
  today: number
  floor: number
  /** False when today's figure is worse than the floor. */
  ok: boolean
}

/** Today's figures in the floor's terms. */
export function floorFigures(classification: Classification): Floor {
  const shared = figuresOf(classification['shared-cache'])
  const cdn = figuresOf(classification['cdn-cache-control'])
  return {
    requiredPass: shared.requiredPass,
    optionalPass: shared.optionalPass,
    cdnRequiredPass: cdn.requiredPass,
    cdnOptionalPass: cdn.optionalPass,
    maxNotScored: shared.requiredNotScored + shared.optionalNotScored + cdn.requiredNotScored + cdn.optionalNotScored,
  }
}

const isWorse = (better: 'higher' | 'lower', today: number, floor: number): boolean => (better === 'higher' ? today < floor : today > floor)

/** Compares every figure with the floor. */
export function compareWithFloor(today: Floor, floor: Floor): FloorComparison[] {
  return FLOOR_FIELDS.map(({ key, label, better }) => ({ key, label, today: today[key], floor: floor[key], ok: !isWorse(better, today[key], floor[key]) }))
}

/** A sentence per figure below the floor, e.g. `shared-cache required passed dropped: 131 < floor 134`. */
export function describeDrops(comparisons: FloorComparison[]): string[] {
  return comparisons
    .filter((c) => !c.ok)
    .map((c) => (c.key === 'maxNotScored' ? `${c.label} rose: ${c.today} > floor ${c.floor}` : `${c.label} dropped: ${c.today} < floor ${c.floor}`))
}

/**
 * The floor after `--update-floor`: each figure moves to today's where today's is better; with `force`,
 * every figure becomes today's, worse ones included. Returns the new floor and a line per change.
 */
export function raiseFloor(today: Floor, floor: Floor, force: boolean): { floor: Floor; changes: string[] } {
  const next = { ...floor }
  const changes: string[] = []
  for (const { key, label, better } of FLOOR_FIELDS) {
    if (today[key] === floor[key]) continue
    const worse = isWorse(better, today[key], floor[key])
    if (worse && !force) continue
    next[key] = today[key]
    changes.push(`${label}: ${floor[key]} → ${today[key]}${worse ? ' (lowered with --force)' : ''}`)
  }
  return { floor: next, changes }
}

/** Reads and validates floor.json. */
export async function readFloor(file: string): Promise<Floor> {
  const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>
  const floor = {} as Floor
  for (const { key } of FLOOR_FIELDS) {
    const value = parsed[key]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error(`${file}: ${key} must be a non-negative integer, got ${JSON.stringify(value)}`)
    floor[key] = value
  }
  return floor
}

/** Writes floor.json, keeping its explanatory comment. */
export async function writeFloor(file: string, floor: Floor): Promise<void> {
  const body = {
    $comment: 'Conformance floor (npm run conformance): CI fails below it. Raise with --update-floor; lowering also needs --force. See scripts/conformance/floor.ts.',
    ...floor,
  }
  await fs.writeFile(file, `${JSON.stringify(body, null, 2)}\n`)
}
