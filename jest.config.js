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
  // dist/ (the prebuilt CLI and ETL workers) brought up to date with the sources before any test.
  globalSetup: '<rootDir>/test/cli-build.js',
  // Longest files first, from test/durations.json when jest has no times of its own (a fresh clone).
  testSequencer: '<rootDir>/test/sequencer.js',
};
