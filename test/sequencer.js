/**
 * The order jest starts test files in: longest first, so the two workers finish together instead of
 * one running a long suite alone at the end. Jest's own sequencer does this from its cache of the
 * last run's times; on a fresh clone (CI) it has none and falls back to file size, which puts short
 * files with long set-ups (a sample built, ingested and searched) last. This one falls back to
 * test/durations.json instead: seconds per file from a whole run (`CI=1 npx jest --json
 * --outputFile=…`, then `node test/sequencer.js …` to rewrite it). Only the order changes.
 */
const { readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const ROOT = join(__dirname, '..');
const DURATIONS = join(__dirname, 'durations.json');
/** About a whole run's time over its file count, with two workers: 650 s × 2 / 104. */
const UNKNOWN_SECONDS = 12;

function committedSeconds() {
  try {
    return JSON.parse(readFileSync(DURATIONS, 'utf8'));
  } catch {
    return {};
  }
}

class LongestFirst extends Sequencer {
  constructor(...args) {
    super(...args);
    this.committed = committedSeconds();
  }

  /**
   * Jest's cached time (ms) of the file's last run here, else the committed one, else an average
   * file's (a new file; jest would run a file without a time before every file with one).
   */
  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const seconds = this.committed[relative(ROOT, test.path).split('\\').join('/')];
    return (seconds ?? UNKNOWN_SECONDS) * 1000;
  }
}

module.exports = LongestFirst;

// `node test/sequencer.js results.json`: rewrites test/durations.json from a jest --json report.
if (require.main === module) {
  const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const seconds = {};
  for (const r of report.testResults) seconds[relative(ROOT, r.name)] = Math.round((r.endTime - r.startTime) / 100) / 10;
  const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(DURATIONS, `${JSON.stringify(sorted, null, 2)}\n`);
}
