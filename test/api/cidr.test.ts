/** CIDR ranges for `Resource.sourceIps(outside:)`: IPv4, IPv6 (with :: and embedded IPv4), bad input. */
import { cidrMatcher } from '../../src/api/connections';

test('IPv4 ranges', () => {
  const known = cidrMatcher(['10.0.0.0/8', '192.0.2.0/28', '203.0.113.10']);
  expect(['10.255.1.2', '192.0.2.15', '203.0.113.10'].map(known)).toEqual([true, true, true]);
  expect(['11.0.0.1', '192.0.2.16', '203.0.113.11', 'not-an-ip', '2001:db8::1'].map(known)).toEqual([false, false, false, false, false]);
  expect(cidrMatcher(['0.0.0.0/0'])('8.8.8.8')).toBe(true);
});

test('IPv6 ranges', () => {
  const known = cidrMatcher(['2001:db8::/32', 'fd00::/8', '::ffff:0:0/96']);
  expect(['2001:db8:1:2::3', '2001:0db8:ffff::', 'fd12:3456::1', '::ffff:192.0.2.1'].map(known)).toEqual([true, true, true, true]);
  expect(['2001:db9::1', 'fe80::1', '::1', '192.0.2.1'].map(known)).toEqual([false, false, false, false]);
});

test('anything that is not a range is a user error naming its position', () => {
  for (const bad of ['10.0.0.0/33', '10.0.0/8', 'fd00::/129', 'x', '', "1.2.3.4/8' OR 1=1"]) {
    expect(() => cidrMatcher(['10.0.0.0/8', bad])).toThrow(/outside\[1\] is not a CIDR range/);
  }
});
