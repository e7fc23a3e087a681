import { test } from "node:test";
import assert from "node:assert/strict";
import { classifyAddress, isIpLiteral } from "./address.ts";

// [address, expected range, public?, embedded range (IPv4-mapped / NAT64 only)]
const TABLE: [string, string, boolean, string?][] = [
  // public
  ["8.8.8.8", "unicast", true],
  ["104.16.1.34", "unicast", true],
  ["2606:4700::6810:122", "unicast", true],
  ["2a00:1450:4001:80b::200e", "unicast", true],
  // loopback
  ["127.0.0.1", "loopback", false],
  ["127.255.255.254", "loopback", false],
  ["::1", "loopback", false],
  // private (RFC 1918)
  ["10.0.0.1", "private", false],
  ["172.16.0.1", "private", false],
  ["172.31.255.255", "private", false],
  ["192.168.1.1", "private", false],
  ["172.32.0.1", "unicast", true], // just outside 172.16/12
  // link-local
  ["169.254.169.254", "linkLocal", false],
  ["fe80::1", "linkLocal", false],
  // CGNAT (RFC 6598)
  ["100.64.0.1", "carrierGradeNat", false],
  ["100.127.255.255", "carrierGradeNat", false],
  ["100.128.0.1", "unicast", true],
  // unique-local (RFC 4193)
  ["fc00::1", "uniqueLocal", false],
  ["fd12:3456::1", "uniqueLocal", false],
  // multicast
  ["224.0.0.1", "multicast", false],
  ["239.255.255.250", "multicast", false],
  ["ff02::1", "multicast", false],
  // unspecified
  ["0.0.0.0", "unspecified", false],
  ["0.1.2.3", "unspecified", false],
  ["::", "unspecified", false],
  // broadcast
  ["255.255.255.255", "broadcast", false],
  // documentation (RFC 5737, RFC 3849): ipaddr.js files these under "reserved"
  ["192.0.2.1", "reserved", false],
  ["198.51.100.7", "reserved", false],
  ["203.0.113.9", "reserved", false],
  ["2001:db8::1", "reserved", false],
  ["3fff::1", "reserved", false],
  // benchmarking (RFC 2544, RFC 5180)
  ["198.18.0.1", "reserved", false],
  ["198.19.255.255", "reserved", false],
  ["2001:2::1", "benchmarking", false],
  // reserved / IETF protocol assignments / future use
  ["192.0.0.8", "reserved", false],
  ["240.0.0.1", "reserved", false],
  ["2001:1::1", "reserved", false],
  // IPv4-mapped: the embedded IPv4 address decides
  ["::ffff:127.0.0.1", "ipv4Mapped", false, "loopback"],
  ["::ffff:7f00:1", "ipv4Mapped", false, "loopback"],
  ["::ffff:10.0.0.1", "ipv4Mapped", false, "private"],
  ["::ffff:169.254.169.254", "ipv4Mapped", false, "linkLocal"],
  ["::ffff:8.8.8.8", "ipv4Mapped", true, "unicast"],
  // NAT64 well-known prefix (RFC 6052): the embedded IPv4 address decides
  ["64:ff9b::127.0.0.1", "rfc6052", false, "loopback"],
  ["64:ff9b::a00:1", "rfc6052", false, "private"],
  ["64:ff9b::8.8.8.8", "rfc6052", true, "unicast"],
  // NAT64 local-use prefix (RFC 8215): refused
  ["64:ff9b:1::a00:1", "rfc6052", false],
  // 6to4, Teredo, IPv4-translated, IPv4-compatible: refused
  ["2002:7f00:1::1", "6to4", false],
  ["2002:808:808::1", "6to4", false],
  ["2001:0:4136:e378::1", "teredo", false],
  ["::ffff:0:7f00:1", "rfc6145", false],
  ["::7f00:1", "ipv4Compatible", false],
  ["::8.8.8.8", "ipv4Compatible", false],
  // other special IPv6
  ["fec0::1", "deprecatedSiteLocal", false],
  ["100::1", "discard", false],
  ["4000::1", "unassigned", false],
  ["2001:20::1", "orchid2", false],
  // not IP addresses
  ["example.com", "invalid", false],
  ["1.2.3", "invalid", false],
  ["0x7f.0.0.1", "invalid", false],
  ["fe80::1%eth0", "invalid", false],
  ["", "invalid", false],
];

test("the address classifier: every refused range, and the public ones that must pass", () => {
  for (const [address, range, isPublic, embedded] of TABLE) {
    const c = classifyAddress(address);
    assert.equal(c.range, range, `${address}: range`);
    assert.equal(c.public, isPublic, `${address}: public`);
    assert.equal(c.embedded?.range, embedded, `${address}: embedded range`);
    assert.ok(c.description.length > 0);
  }
});

test("IPv4-mapped and NAT64 descriptions name the embedded address", () => {
  assert.equal(classifyAddress("::ffff:7f00:1").description, "IPv4-mapped loopback 127.0.0.1");
  assert.equal(classifyAddress("64:ff9b::a00:1").embedded?.address, "10.0.0.1");
});

test("isIpLiteral accepts dotted quads and IPv6 only", () => {
  assert.ok(isIpLiteral("1.2.3.4"));
  assert.ok(isIpLiteral("::1"));
  assert.ok(!isIpLiteral("registry.npmjs.org"));
  assert.ok(!isIpLiteral("2130706433"));
});
