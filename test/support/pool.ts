/** Runs `task(0..count-1)` with at most `limit` in flight, started in index order; results by index. */
export async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const i = next++
        out[i] = await task(i)
      }
    })
  )
  return out
}
