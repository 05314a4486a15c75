/**
 * TEST INFRASTRUCTURE (demos): starts the local OIDC issuer and prints what a demo needs: the
 * SCOUTQL_AUTH__OIDC__… variables pointing ScoutQL at it and a token for each group asked for.
 *
 *   npx tsx testkit/oidc-issuer/run.ts [--port 4555] [--groups sec-analysts,sec-admins] [--hours 8]
 *
 * Runs until Ctrl-C. Never used in production: the issuer signs whatever it is asked to.
 */
import { parseArgs } from 'node:util';
import { startOidcIssuer } from './index';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      groups: { type: 'string', default: 'sec-analysts' },
      hours: { type: 'string', default: '8' },
    },
  });
  const issuer = await startOidcIssuer({ port: Number(values.port) });
  const out = [
    `# local OIDC issuer on ${issuer.issuer} (Ctrl-C stops it)`,
    `export SCOUTQL_AUTH__OIDC__ISSUER=${issuer.issuer}`,
    `export SCOUTQL_AUTH__OIDC__AUDIENCE=${issuer.audience}`,
  ];
  for (const group of values.groups.split(',').filter(Boolean)) {
    const token = await issuer.mint(
      { groups: [group], name: `demo ${group}` },
      { subject: `demo-${group}`, expiresIn: Number(values.hours) * 3600 },
    );
    out.push(`# ${group}:`, `export TOKEN_${group.toUpperCase().replace(/[^A-Z0-9]/g, '_')}=${token}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  const stop = () => void issuer.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`oidc-issuer: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
