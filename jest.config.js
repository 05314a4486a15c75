/** Type checking runs once in `npm run typecheck`; jest only transpiles (esbuild), which keeps the suite fast. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': '<rootDir>/test/esbuild-transform.js',
    // jose ships ES modules only; Node 20 loads them with require(esm), but Jest's own loader does not
    // (before Node 24.9), so Jest transpiles jose alone to CommonJS. The runtime (tsx) loads it as is.
    '^.+/node_modules/jose/.+\\.js$': '<rootDir>/test/esbuild-transform.js',
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testTimeout: 120000,
  maxWorkers: 2,
  // The CLI built once per run from the current sources, for tests that start many CLI processes.
  globalSetup: '<rootDir>/test/cli-build.js',
  globalTeardown: '<rootDir>/test/cli-build-teardown.js',
  // Longest files first, from test/durations.json when jest has no times of its own (a fresh clone).
  testSequencer: '<rootDir>/test/sequencer.js',
};
