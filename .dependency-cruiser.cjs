// Which layer may import which (`npm run lint:deps`). Layers import downwards only:
//   src/cli (wiring) → src/api, src/rules → src/queries → src/engine → src/core;  etl (ingest) → src/core;  src/delivery → src/core.
// "Core" below is src/core plus src/generated/sources.ts (the source ids, generated from etl/sources/). A source folder's sample
// writer (etl/sources/<id>/sample*.ts) may also use the sample kit (testkit/sample): the ETL never loads it.
// Node built-ins and npm packages are not checked here.

/** A source folder's sample writer: `sample.ts`, and the modules it is split into (`sample-*.ts`, as CloudTrail's). */
const SAMPLE_WRITER = '^etl/sources/[^/]+/sample[^/]*[.]ts$';

const PROJECT = '^(src|etl|test|testkit|bench|bin|examples)/';
const CORE = '^src/core/|^src/generated/sources[.]ts$';

/** A rule: files matching `from` may import, of the project, only what matches `allowed`. */
const onlyImports = (name, comment, from, allowed, severity = 'error') => ({
  name,
  comment,
  severity,
  from: { path: from.path, pathNot: from.pathNot },
  to: { path: PROJECT, pathNot: allowed },
});

module.exports = {
  forbidden: [
    onlyImports(
      'core-imports-core',
      'src/core is the bottom layer: it imports only itself (and the generated source ids).',
      { path: '^src/core/' },
      CORE,
    ),
    onlyImports(
      'engine-imports-core',
      'src/engine (DuckDB, Athena) sits on src/core only.',
      { path: '^src/engine/' },
      `^src/engine/|${CORE}`,
    ),
    onlyImports(
      'queries-import-engine-core',
      'src/queries writes SQL: it uses the contract (src/core) and the engine seam types, nothing above.',
      { path: '^src/queries/' },
      `^src/queries/|^src/engine/|${CORE}`,
    ),
    {
      name: 'queries-use-engine-types-only',
      comment: 'src/queries builds statements; running them is the caller’s job, so it takes only types from src/engine.',
      severity: 'error',
      from: { path: '^src/queries/' },
      to: { path: '^src/engine/', dependencyTypesNot: ['type-only'] },
    },
    onlyImports(
      'api-imports-lower-layers',
      'src/api (schema, resolvers, loaders) uses src/queries, src/engine, src/core, src/generated, src/rules and serves the explorer and workbench pages.',
      { path: '^src/api/' },
      `^src/(api|queries|engine|core|generated|rules|explorer|workbench)/`,
    ),
    onlyImports(
      'rules-import-lower-layers',
      'src/rules (detections) compiles to SQL over src/queries, src/engine and src/core.',
      { path: '^src/rules/' },
      `^src/(rules|queries|engine|core)/|${CORE}`,
    ),
    onlyImports(
      'catalog-imports-core',
      'src/catalog (Athena DDL) derives from the contract and runs on the engine seam.',
      { path: '^src/catalog/' },
      `^src/(catalog|engine)/|${CORE}`,
    ),
    onlyImports(
      'evidence-imports-core',
      'src/evidence (checking CloudTrail digest chains) reads its stores itself: it builds on src/core only.',
      { path: '^src/evidence/' },
      `^src/evidence/|${CORE}`,
    ),
    onlyImports(
      'delivery-imports-core',
      'src/delivery (findings out to webhooks, SNS, EventBridge) reads the findings table and keeps its outbox itself: src/core only.',
      { path: '^src/delivery/' },
      `^src/delivery/|${CORE}`,
    ),
    onlyImports(
      'explorer-is-a-leaf',
      'src/explorer (the GraphiQL page) imports nothing of the project.',
      { path: '^src/explorer/' },
      '^src/explorer/',
    ),
    onlyImports(
      'workbench-is-a-leaf',
      'src/workbench (the /ui/ page and its browser code) talks to the API over HTTP only: it imports nothing of the project but the explorer’s page headers.',
      { path: '^src/workbench/' },
      '^src/(workbench/|explorer/page[.]ts$)',
    ),
    onlyImports(
      'etl-imports-core',
      'etl (ingest) imports only src/core; a source folder’s sample writer may use the sample toolkit.',
      { path: '^etl/', pathNot: SAMPLE_WRITER },
      `^etl/|${CORE}`,
    ),
    onlyImports(
      'sample-writers-import-core-and-sample-kit',
      'A source folder’s sample writer: its own folder’s code, src/core and testkit/sample.',
      { path: SAMPLE_WRITER },
      `^etl/|^testkit/sample/|${CORE}`,
    ),
    {
      name: 'nothing-imports-entry-points',
      comment: 'src/cli (and the Lambda handler) wire the layers together; nothing builds on them (bin/ starts the CLI, tests drive both).',
      severity: 'error',
      from: { path: PROJECT, pathNot: '^(src/cli|src/lambda|bin|test)/' },
      to: { path: '^src/(cli|lambda)/' },
    },
    {
      name: 'testkit-only-from-tests-bench-cli',
      comment: 'testkit/ (local S3 and Athena servers, the sample generator) is for tests, benches and the CLI’s demo commands.',
      severity: 'error',
      from: { path: PROJECT, pathNot: `^(test|testkit|bench|src/cli)/|${SAMPLE_WRITER}` },
      to: { path: '^testkit/' },
    },
    {
      name: 'nothing-imports-codegen',
      comment: 'src/codegen writes src/generated/; the code uses what it wrote, not the generators.',
      severity: 'error',
      from: { path: PROJECT, pathNot: '^src/codegen/' },
      to: { path: '^src/codegen/' },
    },
  ],
  options: {
    // `import type` counts (and is told apart), so a type-only use of a higher layer is caught too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|coverage|bench/out)/' },
  },
};
