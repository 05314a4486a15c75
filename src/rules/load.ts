/**
 * Reads rule folders: every `*.yml` / `*.yaml` below them (recursively) except the `*.tests.yml`
 * sample files beside the rules. A file that is not valid YAML is reported with its path, line
 * and reason; the other files still load.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { compileDocuments, type RuleDocument } from './compile';
import type { CompiledRule, RuleProblem } from './model';

/** The project's own rule set (rules/ at the repository root). */
export const PROJECT_RULES_DIR = resolve(__dirname, '..', '..', 'rules');

const RULE_FILE = /\.ya?ml$/i;
const TESTS_FILE = /\.tests\.ya?ml$/i;

export function ruleFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && RULE_FILE.test(entry.name) && !TESTS_FILE.test(entry.name)) out.push(path);
    }
  };
  if (!statSync(dir).isDirectory()) throw new Error(`rules folder '${dir}' is not a folder`);
  walk(dir);
  return out;
}

/** Parses one file's text into its YAML documents, or the problems that stop it. */
export function parseRuleText(file: string, textOfFile: string): { documents: RuleDocument[]; problems: RuleProblem[] } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(textOfFile, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  const problems: RuleProblem[] = [];
  const documents: RuleDocument[] = [];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      const err = doc.errors[0];
      problems.push({
        file,
        line: lines.linePos(err.pos[0]).line,
        id: null,
        title: null,
        construct: 'YAML',
        reason: err.message.split('\n')[0],
      });
      continue;
    }
    if (doc.contents === null) continue; // an empty document (a trailing ---)
    documents.push({ file, doc, lines });
  }
  if (documents.length === 0 && problems.length === 0)
    problems.push({ file, line: null, id: null, title: null, construct: 'file', reason: 'holds no YAML document' });
  return { documents, problems };
}

export interface LoadedRules {
  compiled: CompiledRule[];
  problems: RuleProblem[];
  files: number;
}

/** Loads and compiles every rule of the folders, as one set (correlations may refer across files). */
export function loadRules(dirs: readonly string[]): LoadedRules {
  const documents: RuleDocument[] = [];
  const problems: RuleProblem[] = [];
  let files = 0;
  for (const dir of dirs) {
    for (const path of ruleFiles(dir)) {
      files += 1;
      const rel = relative(process.cwd(), path);
      const shown = rel && !rel.startsWith('..') ? rel : path;
      let content: string;
      try {
        content = readFileSync(path, 'utf8');
      } catch (err) {
        problems.push({ file: shown, line: null, id: null, title: null, construct: 'file', reason: (err as Error).message });
        continue;
      }
      const parsed = parseRuleText(shown, content);
      documents.push(...parsed.documents);
      problems.push(...parsed.problems);
    }
  }
  const outcome = compileDocuments(documents);
  return { compiled: outcome.compiled, problems: [...problems, ...outcome.problems], files };
}
