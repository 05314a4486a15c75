/**
 * The sample's fictional geography as a GeoIP overrides file (src/core/geoip.ts), written beside
 * stories.json. The sample's addresses are documentation addresses no database knows; ingest reads
 * this file (`--geoip-overrides`, and `demo` passes it) so the lake, the graph and the rules see
 * countries and networks.
 *
 * The company's NAT gateways, CI runners and instances' public addresses are AWS addresses (AS16509,
 * so they count as a cloud provider's); its offices are on the company's own network; everyone else
 * (the stories' attackers and strangers) is on a hosting network of their country. Those networks
 * use documentation AS numbers (RFC 5398: 64496–64511), as the addresses are documentation ones.
 */
import type { OverrideNetwork, OverridesFile } from '../../src/core/geoip';
import type { Story } from './story';
import type { World } from './world';

export const GEOIP_OVERRIDES_FILE = 'geoip-overrides.json';

const AWS = { asn: 16509, org: 'Amazon.com, Inc.' };
const OFFICE = { asn: 64496, org: 'Acme Corp (sample)' };
/** Hosting networks by country, each its own documentation AS number. */
const HOSTING_FIRST_ASN = 64497;
const HOSTING_LAST_ASN = 64511;

/** us-east-1 → US, eu-west-1 → IE, ap-southeast-3 → ID: where an AWS region's addresses are registered. */
const REGION_COUNTRY: Record<string, string> = { 'us-east-1': 'US', 'eu-west-1': 'IE', 'ap-southeast-3': 'ID' };

export function geoipOverrides(world: World, stories: readonly Story[]): OverridesFile {
  const networks = new Map<string, OverrideNetwork>();
  const add = (ip: string, entry: Omit<OverrideNetwork, 'network'>) => {
    if (!networks.has(ip)) networks.set(ip, { network: `${ip}/32`, ...entry });
  };
  for (const office of world.offices) add(office.ip, { country: office.country, ...OFFICE });
  for (const ip of Object.values(world.egress)) add(ip, { country: world.ipCountry[ip] ?? 'US', ...AWS });
  for (const instance of world.instances) {
    if (instance.publicIp) add(instance.publicIp, { country: REGION_COUNTRY[instance.region] ?? 'US', ...AWS });
  }
  const hosting = new Map<string, number>();
  const strangers = stories
    .flatMap((s) => Object.entries(s.ipCountries))
    .filter(([ip, country]) => /^[A-Z]{2}$/.test(country) && !networks.has(ip) && !ip.startsWith('10.'))
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  for (const [ip, country] of strangers) {
    if (!hosting.has(country)) hosting.set(country, Math.min(HOSTING_FIRST_ASN + hosting.size, HOSTING_LAST_ASN));
    add(ip, { country, asn: hosting.get(country)!, org: `Example Hosting ${country} (sample)`, cloud: null });
  }
  return {
    description:
      'Fictional geography of the ScoutQL sample (documentation addresses): pass to `scoutql ingest --geoip-overrides`. AS 64496–64511 are documentation AS numbers.',
    networks: [...networks.values()].sort((a, b) => a.network.localeCompare(b.network, 'en', { numeric: true })),
  };
}
