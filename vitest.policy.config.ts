import { defineConfig } from 'vitest/config'

// The policy layer's unit tests alone: pure functions, no servers and no bundled worker, so no
// globalSetup. StrykerJS (stryker.config.mjs) runs these thousands of times; `vitest.config.ts` is
// the full suite.
export default defineConfig({
  test: {
    include: ['test/policy/**/*.test.ts'],
    testTimeout: 10_000,
  },
})
