import type { Command } from 'commander';
import { ApiKeyStore, keyStatus, parseExpiry, type ApiKeyRecord } from '../../api/auth/api-keys';
import { ROLES, type Role } from '../../api/auth/caller';
import { objectStoreFor } from '../../api/store/object-store';
import { addConfigOptions, configFromCommand } from '../../config/cli';
import { apiKeyStoreOf } from '../../config/load';
import { s3Client } from '../../../etl/s3';

/**
 * `scoutql keys create|list|revoke`: API keys for machines, in the store the configuration names
 * (auth.apiKeys.store, default the lake's `_keys/`). Run by an operator with write access there;
 * servers only read it and see changes within auth.apiKeys.cacheSeconds.
 */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys for machines (SOAR, notebooks): create, list, revoke');

  addConfigOptions(
    keys
      .command('create')
      .description('Create a key and print it once (stdout; the details go to stderr). Only its scrypt hash is stored.')
      .requiredOption('--name <name>', 'what the key is for (e.g. soar, notebooks)')
      .requiredOption('--role <role>', `${ROLES.join(' | ')}`)
      .requiredOption('--accounts <ids>', 'comma-separated account ids the key may see, or * for all')
      .option('--expires <when>', 'a duration (90d, 12h, 2w) or an ISO date; default: no expiry')
      .option('--json', 'print the key and its record as JSON'),
    ['--lake'],
  ).action(async (opts: { name: string; role: string; accounts: string; expires?: string; json?: boolean }, command: Command) => {
    if (!(ROLES as readonly string[]).includes(opts.role)) throw new Error(`--role must be one of ${ROLES.join(', ')}, got '${opts.role}'`);
    const accounts =
      opts.accounts.trim() === '*'
        ? '*'
        : opts.accounts
            .split(',')
            .map((a) => a.trim())
            .filter(Boolean);
    const store = openKeyStore(command);
    const { token, record } = await store.create({
      name: opts.name,
      role: opts.role as Role,
      accounts,
      expiresAt: opts.expires ? parseExpiry(opts.expires) : null,
    });
    if (opts.json) {
      process.stdout.write(JSON.stringify({ key: token, ...summary(record) }, null, 2) + '\n');
      return;
    }
    process.stderr.write(
      `Created API key ${record.id} '${record.name}': role ${record.role}, accounts ${describeAccounts(record.accounts)}, ` +
        `${record.expiresAt ? `expires ${record.expiresAt}` : 'no expiry'}; stored in ${store.store.location}.\n` +
        'The key is printed once, below; keep it in your secret store. Send it as `Authorization: Bearer <key>` or `x-api-key: <key>`.\n',
    );
    process.stdout.write(`${token}\n`);
  });

  addConfigOptions(
    keys
      .command('list')
      .description('List keys (never the keys themselves): id, name, role, accounts, status')
      .option('--json', 'print JSON'),
    ['--lake'],
  ).action(async (opts: { json?: boolean }, command: Command) => {
    const store = openKeyStore(command);
    const records = await store.list();
    if (opts.json) {
      process.stdout.write(JSON.stringify(records.map(summary), null, 2) + '\n');
      return;
    }
    if (records.length === 0) {
      process.stdout.write(`no API keys in ${store.store.location}\n`);
      return;
    }
    const rows = [
      ['ID', 'NAME', 'ROLE', 'ACCOUNTS', 'CREATED', 'EXPIRES', 'STATUS'],
      ...records.map((r) => [
        r.id,
        r.name,
        r.role,
        describeAccounts(r.accounts),
        r.createdAt.slice(0, 10),
        r.expiresAt?.slice(0, 10) ?? '-',
        keyStatus(r),
      ]),
    ];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    process.stdout.write(
      rows
        .map((row) =>
          row
            .map((cell, i) => cell.padEnd(widths[i]))
            .join('  ')
            .trimEnd(),
        )
        .join('\n') + '\n',
    );
  });

  addConfigOptions(
    keys
      .command('revoke')
      .description('Revoke a key by id, by the key itself, or by a name only one live key has')
      .argument('<key>', 'id (16 hex digits), sk_… key, or name'),
    ['--lake'],
  ).action(async (which: string, _opts: unknown, command: Command) => {
    const store = openKeyStore(command);
    const config = configFromCommand(command);
    const record = await store.revoke(which);
    const delay = config.auth.mode === 'on' && config.auth.apiKeys ? config.auth.apiKeys.cacheSeconds : 30;
    process.stdout.write(
      `revoked key ${record.id} '${record.name}' at ${record.revokedAt}; servers refuse it within ${delay} s (auth.apiKeys.cacheSeconds)\n`,
    );
  });
}

function openKeyStore(command: Command): ApiKeyStore {
  const location = apiKeyStoreOf(configFromCommand(command));
  return new ApiKeyStore(objectStoreFor(location, { s3Client }));
}

function summary(record: ApiKeyRecord) {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    accounts: record.accounts,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    revokedAt: record.revokedAt,
    status: keyStatus(record),
  };
}

function describeAccounts(accounts: readonly string[] | '*'): string {
  return accounts === '*' ? '* (all)' : accounts.join(',');
}
