import { InvalidArgumentError, type Command } from 'commander';
import type { RequestLine } from '../../api/audit/record';
import { tailAudit, verifyAuditTrail, type StreamVerdict } from '../../api/audit/verify';
import { objectStoreFor } from '../../api/store/object-store';
import { addConfigOptions, configFromCommand } from '../../config/cli';
import { s3Client } from '../../../etl/s3';

/** `scoutql audit verify|tail`: check the API's hash-chained audit trail and read its last lines. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description("The API's audit trail (audit.location, default the lake's _audit/): verify, tail");

  addConfigOptions(
    audit
      .command('verify')
      .description('Walk each stream from its first line to HEAD; name the first broken line (exit 1 if any)')
      .option('--stream <name>', 'only this stream')
      .option('--json', 'print the verdicts as JSON'),
    ['--lake'],
  ).action(async (opts: { stream?: string; json?: boolean }, command: Command) => {
    const config = configFromCommand(command);
    const store = objectStoreFor(config.audit.location, { s3Client });
    const verdicts = await verifyAuditTrail(store, { stream: opts.stream });
    if (opts.json) process.stdout.write(JSON.stringify(verdicts, null, 2) + '\n');
    else {
      process.stdout.write(`audit trail ${store.location}\n`);
      if (verdicts.length === 0) process.stdout.write('  no audit lines yet\n');
      for (const v of verdicts) process.stdout.write(describeVerdict(v, store.location));
    }
    if (verdicts.some((v) => !v.ok)) process.exitCode = 1;
  });

  addConfigOptions(
    audit
      .command('tail')
      .description('Print the last requests of a stream, oldest first')
      .option('-n, --lines <n>', 'how many', count, 20)
      .option('--stream <name>', 'stream (default: audit.stream)')
      .option('--json', 'print the lines as they are stored (JSON lines)'),
    ['--lake'],
  ).action(async (opts: { lines: number; stream?: string; json?: boolean }, command: Command) => {
    const config = configFromCommand(command);
    const store = objectStoreFor(config.audit.location, { s3Client });
    const lines = await tailAudit(store, { stream: opts.stream ?? config.audit.stream, lines: opts.lines });
    process.stdout.write(lines.map((l) => (opts.json ? JSON.stringify(l) : describeLine(l))).join('\n') + (lines.length ? '\n' : ''));
  });
}

function describeVerdict(v: StreamVerdict, location: string): string {
  const lines: string[] = [];
  if (v.ok) {
    const head = v.head === 'matches' ? 'HEAD matches' : v.head === 'behind' ? 'HEAD behind (see note)' : `HEAD ${v.head}`;
    lines.push(`  ${v.stream}: OK: ${v.chunks} chunk${v.chunks === 1 ? '' : 's'}, ${v.requests} requests, seq 1–${v.lastSeq}, ${head}`);
  } else if (v.problem) {
    const p = v.problem;
    lines.push(`  ${v.stream}: BROKEN at ${location}/${p.file} line ${p.line}${p.seq !== null ? ` (seq ${p.seq})` : ''}: ${p.kind}`);
    lines.push(`    ${p.message}`);
    lines.push(`    (the ${v.lines} lines before it verify)`);
  }
  for (const note of v.notes) lines.push(`    note: ${note}`);
  return lines.join('\n') + '\n';
}

function describeLine(l: RequestLine): string {
  const who = `${l.caller.name ?? l.caller.subject} (${l.caller.kind}, ${l.caller.role})`;
  const what = l.persisted ? `${l.operation ?? '-'} [${l.persisted}]` : (l.operation ?? '-');
  const accounts = l.accounts === '*' ? '*' : l.accounts.join(',');
  const outcome = `${l.outcome} ${l.status}${l.reason ? ` ${l.reason}` : ''}`;
  return `${l.time}  #${l.seq}  ${who}  ${what}  ${outcome}  rows ${l.rows}  scanned ${l.bytesScanned} B  ${l.durationMs} ms  accounts ${accounts}`;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}
