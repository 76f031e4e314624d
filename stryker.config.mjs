// @ts-check
/**
 * Mutation testing of the RFC 9111 policy layer (`npm run mutation`). Only `src/policy/` is mutated
 * and only `test/policy/` runs (vitest.policy.config.ts: no globalSetup, no worker bundle). Reports go
 * to reports/mutation/ (gitignored). The README's "Mutation testing" section has the score and the
 * survivors that are left on purpose.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.policy.config.ts' },
  mutate: ['src/policy/**/*.ts'],
  // Each mutant runs only the tests that reached it in the dry run.
  coverageAnalysis: 'perTest',
  // Two cores, shared with other work.
  concurrency: 2,
  // The policy modules are type-annotated but a mutant that fails type-checking still runs (and is
  // usually killed at once); no checker keeps a run to a few minutes.
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
}
