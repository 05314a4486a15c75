import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { PROJECT_RULES_DIR, loadRules } from '../../rules/load';

interface CheckOptions {
  json?: boolean;
  strict?: boolean;
}

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('Detection rules (Sigma, correlations, baselines): check that they compile');
  rules
    .command('check')
    .description('Compile every rule of a folder and list each as compiled or unsupported (with why and where)')
    .argument('[dir]', "rules folder (default: the project's rule set)")
    .option('--json', 'print the result as JSON')
    .option('--strict', 'exit 1 when any rule fails (always on for the project rule set)')
    .action((dir: string | undefined, opts: CheckOptions) => {
      const folder = resolve(dir ?? PROJECT_RULES_DIR);
      if (!existsSync(folder)) throw new Error(`rules folder '${folder}' does not exist`);
      const { compiled, problems, files } = loadRules([folder]);
      const isProject = folder === resolve(PROJECT_RULES_DIR);
      const failed = problems.length > 0 && (isProject || opts.strict === true);
      if (opts.json) {
        const list = compiled.map((r) => ({
          status: 'compiled',
          id: r.meta.id,
          title: r.meta.title,
          kind: r.meta.kind,
          level: r.meta.level,
          techniques: r.meta.techniques,
          file: r.meta.file,
          reports: r.standalone ? 'own hits' : 'through its correlation',
        }));
        process.stdout.write(JSON.stringify({ files, compiled: list, unsupported: problems }, null, 2) + '\n');
      } else {
        const shown = (file: string) => relative(folder, resolve(file)) || file;
        for (const r of [...compiled].sort((a, b) => a.meta.file.localeCompare(b.meta.file) || a.meta.line - b.meta.line)) {
          const note = r.standalone ? '' : ' (reports through its correlation)';
          const techniques = r.meta.techniques.length ? ` [${r.meta.techniques.join(', ')}]` : '';
          process.stdout.write(
            `compiled     ${r.meta.kind.padEnd(11)} ${r.meta.level.padEnd(13)} ${shown(r.meta.file)}: ${r.meta.title}${techniques}${note}\n`,
          );
        }
        for (const p of problems) {
          const where = `${shown(p.file)}${p.line !== null ? `:${p.line}` : ''}`;
          const rule = p.id ? ` (${p.title ?? p.id})` : '';
          process.stdout.write(`unsupported  ${where}${rule}: ${p.construct}: ${p.reason}\n`);
        }
        process.stdout.write(`${compiled.length} compiled, ${problems.length} unsupported, in ${files} files\n`);
      }
      if (failed) process.exitCode = 1;
    });
}
