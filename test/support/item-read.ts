/**
 * The demo origin's own signal that a request has read an item: resolves when `store.get(id)` first runs,
 * so a test can land a purge while the origin holds that request's answer (fenced-fill tests); `restore`
 * puts the store's own `get` back.
 */
import type { ItemStore } from '../../scripts/demo-origin/item-store.ts'

export function itemRead(store: ItemStore, id: string): { read: Promise<void>; restore(): void } {
  const storeGet = store.get.bind(store)
  let signalRead = () => {}
  const read = new Promise<void>((resolve) => (signalRead = resolve))
  store.get = (itemId: string) => {
    const item = storeGet(itemId)
    if (itemId === id) signalRead()
    return item
  }
  return { read, restore: () => Reflect.deleteProperty(store, 'get') }
}
