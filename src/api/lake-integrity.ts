/**
 * The API answers only from a lake that matches its commit chain. Whoever starts the server
 * supplies the check (the CLI wires src/evidence's quick `verify lake`: chain head, every manifest
 * link, the file list by size); this plugin asks it before each operation. A lake that does not
 * match is refused with LAKE_TAMPERED (HTTP 503), unless the server was started with
 * --allow-unverified: then every answer carries the warning in `extensions.lakeIntegrity`. A lake
 * with no commit chain at all (written before ScoutQL kept one) is served with that warning.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { RequestContext } from './context';

export interface LakeIntegrityStatus {
  /** verified: the lake matches its chain; tampered: it does not (or cannot be read); unverified: not checked yet. */
  state: 'verified' | 'tampered' | 'unverified';
  /** The newest commit, as HEAD names it. */
  head: string | null;
  checkedAt: string | null;
  /** What does not match, in words (the first few). */
  findings: string[];
  /** How many findings there are in all. */
  findingCount: number;
}

export interface LakeIntegrityCheck {
  /** The lake's state now: cheap enough to ask per request (it re-checks when the lake's head changes). */
  status(): Promise<LakeIntegrityStatus>;
}

export interface LakeIntegrityOptions {
  /** Serve a lake that does not match, with a warning on every answer. */
  allowUnverified?: boolean;
}

export function lakeIntegrityPlugin(check: LakeIntegrityCheck, options: LakeIntegrityOptions = {}): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      const status = await check.status();
      const tampered = status.state === 'tampered';
      // An unverified lake (no commit chain at all) is served with the warning; a tampered one only when allowed.
      const warn = status.state === 'unverified' || (tampered && options.allowUnverified === true);
      return {
        async didResolveOperation() {
          if (!tampered || options.allowUnverified) return;
          throw new GraphQLError(
            `the lake does not match its commit chain (${status.findingCount} finding${status.findingCount === 1 ? '' : 's'}${
              status.findings.length ? `, e.g. ${status.findings[0]}` : ''
            }): refusing to answer from it. Run \`scoutql verify lake\` for the report, or start the server with --allow-unverified`,
            { extensions: { code: 'LAKE_TAMPERED', http: { status: 503 } } },
          );
        },
        async willSendResponse({ response }) {
          if (!warn || response.body.kind !== 'single') return;
          response.body.singleResult.extensions = {
            ...response.body.singleResult.extensions,
            lakeIntegrity: {
              warning: tampered
                ? 'answered from a lake that does not match its commit chain (--allow-unverified)'
                : 'answered from a lake that no commit chain vouches for',
              state: status.state,
              head: status.head,
              checkedAt: status.checkedAt,
              findingCount: status.findingCount,
              findings: status.findings,
            },
          };
        },
      };
    },
  };
}
