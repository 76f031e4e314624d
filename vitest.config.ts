import { defineConfig } from 'vitest/config'

// One Node-side runner drives everything: unit tests of pure modules, the Upstash-compatible server
// against real redis-server, and integration tests that boot the bundled worker in workerd via Miniflare.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Integration suites each start their own servers on free ports; no shared state between files.
    isolate: true,
  },
})
