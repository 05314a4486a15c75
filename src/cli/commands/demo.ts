import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ingest } from '../../../etl/ingest';
import { DEFAULT_SEED, GEOIP_OVERRIDES_FILE, SAMPLE_MANIFEST, generateSample } from '../../../testkit/sample';
import { addConfigOptions, configFlags } from '../../config/cli';
import { loadConfig } from '../../config/load';
import { assertPortFree } from '../service';
import { printSummary, progressBar } from './ingest';
import { serveConfig } from './serve';

/**
 * `npm start`: the whole path on a fresh machine with no cloud account. Sample logs → ingest →
 * lake → API with explorer. Running it again reuses the logs and the lake (ingest adds nothing).
 */
export function registerDemo(program: Command): void {
  addConfigOptions(
    program
      .command('demo')
      .description('Write sample logs, ingest them into a local lake and serve the API with its explorer (what `npm start` runs)')
      .option('--dir <dir>', 'working folder for the sample logs and the lake', '.scoutql'),
    ['--host', '--port'],
  ).action(async (opts: { dir: string; config?: string }, command: Command) => {
    const logs = join(opts.dir, 'logs');
    const lake = join(opts.dir, 'lake');
    const config = loadConfig({
      configPath: opts.config,
      flags: [...configFlags(command), { key: 'engine.lake', value: lake, flag: '--dir' }],
    });
    if (config.engine.type !== 'duckdb')
      throw new Error('demo serves a local sample lake on DuckDB; use scoutql serve for engine.type athena');
    // Before half a minute of work: a taken port is said now, not after the ingest.
    await assertPortFree(config.server.host, config.server.port);
    if (!existsSync(join(logs, SAMPLE_MANIFEST))) {
      process.stdout.write(`1/3 writing sample logs with attack stories to ${logs} …\n`);
      const sample = generateSample({ out: logs, seed: DEFAULT_SEED });
      process.stdout.write(
        `    ${sample.totals.records} records in ${sample.totals.files} files; stories in ${join(logs, 'stories.json')}\n`,
      );
    } else {
      process.stdout.write(`1/3 sample logs already in ${logs}\n`);
    }
    process.stdout.write(`2/3 ingesting into ${lake} …\n`);
    const progress = progressBar();
    // The log folders only: stories.json and sample.json describe the sample and are not logs.
    const folders = readdirSync(logs, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(logs, e.name));
    // The sample's addresses are documentation addresses: their fictional geography comes with the sample.
    const overrides = join(logs, GEOIP_OVERRIDES_FILE);
    const summary = await ingest({
      inputs: folders,
      lake,
      onProgress: progress?.update,
      geoip: existsSync(overrides) ? { overrides } : {},
    });
    progress?.stop();
    printSummary(summary, lake);
    process.stdout.write('3/3 serving\n');
    const url = await serveConfig(config);
    process.stdout.write(`\nOpen ${url} and run the preloaded hunting queries. Ctrl-C to stop.\n`);
  });
}
