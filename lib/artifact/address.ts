/**
 * The address classifier behind the hardened fetcher's SSRF guard: may the product open a connection to
 * this IP address when it fetches a packument, tarball or attestation?
 *
 * Ranges come from ipaddr.js (`range()`, the IANA special-purpose registries, RFC 6890), not from
 * hand-written CIDR math. Only ipaddr.js's `unicast` class is public; on top of that:
 *
 * - IPv4-mapped IPv6 (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) is what an IPv6 socket sends to the IPv4
 *   address, so the embedded IPv4 address is classified instead (`::ffff:127.0.0.1` is loopback).
 * - NAT64 well-known prefix `64:ff9b::/96` (RFC 6052 §2.1): DNS64 resolvers on IPv6-only networks
 *   synthesize these for every IPv4-only host, so refusing them all would break those users; the
 *   embedded IPv4 address is classified instead (`64:ff9b::10.0.0.1` is private). The local-use NAT64
 *   prefix `64:ff9b:1::/48` (RFC 8215) reaches site-chosen targets and is refused.
 * - 6to4 (`2002::/16`, deprecated by RFC 7526), Teredo, the IPv4-translated range of RFC 6145, the
 *   deprecated IPv4-compatible form (`::a.b.c.d`, RFC 4291 §2.5.5.1) and IPv6 outside global unicast
 *   `2000::/3` (RFC 4291 §2.4: unassigned) are refused: no registry is served from them, and several
 *   tunnel to an arbitrary IPv4 address.
 *
 * @module
 */
import ipaddr from "ipaddr.js";

/** The verdict on one IP address. */
export interface AddressClass {
  /** The address as given. */
  address: string;
  /**
   * ipaddr.js's range name (`unicast`, `loopback`, `private`, `linkLocal`, `carrierGradeNat`,
   * `uniqueLocal`, `multicast`, `unspecified`, `broadcast`, `reserved`, `benchmarking`, `ipv4Mapped`,
   * `rfc6052`, `6to4`, `teredo`, ...) or one of ours: `ipv4Compatible`, `unassigned`, `invalid`.
   */
  range: string;
  /** For IPv4-mapped and NAT64 `/96` addresses: the embedded IPv4 address and its range. */
  embedded?: { address: string; range: string };
  /** True if a connection may be opened to this address without an explicit allow. */
  public: boolean;
  /** Why it is not public, in words, e.g. "loopback" or "IPv4-mapped private (RFC 1918) 10.0.0.1". */
  description: string;
}

const WORDS: Record<string, string> = {
  unicast: "public unicast",
  unspecified: "unspecified",
  broadcast: "broadcast",
  multicast: "multicast",
  linkLocal: "link-local",
  loopback: "loopback",
  carrierGradeNat: "carrier-grade NAT (RFC 6598)",
  private: "private (RFC 1918)",
  reserved: "reserved (IETF assignments, documentation or future use)",
  as112: "AS112 DNS sink",
  amt: "AMT relay anycast",
  uniqueLocal: "unique-local (RFC 4193)",
  ipv4Mapped: "IPv4-mapped",
  deprecatedSiteLocal: "site-local (deprecated, RFC 3879)",
  discard: "discard-only (RFC 6666)",
  rfc6145: "IPv4-translated (RFC 6145)",
  rfc6052: "NAT64 (RFC 6052/8215)",
  "6to4": "6to4 (RFC 3056, deprecated)",
  teredo: "Teredo tunnel",
  benchmarking: "benchmarking (RFC 5180)",
  as112v6: "AS112 DNS sink",
  deprecatedOrchid: "ORCHID (deprecated)",
  orchid2: "ORCHIDv2",
  droneRemoteIdProtocolEntityTags: "drone remote ID tags (RFC 9374)",
  segmentRouting: "segment routing SIDs (RFC 9602)",
  ipv4Compatible: "IPv4-compatible (deprecated, RFC 4291)",
  unassigned: "unassigned (outside 2000::/3)",
  invalid: "not an IP address",
};

const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR("64:ff9b::/96");
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR("::/96");
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR("2000::/3");

function words(range: string): string {
  return WORDS[range] ?? range;
}

/**
 * True if `text` is an IP literal (dotted-quad IPv4 or IPv6, without brackets). Host names that only
 * look numeric are not literals here: the WHATWG URL parser has already rewritten forms such as
 * `2130706433` or `0x7f.1` to dotted quads.
 */
export function isIpLiteral(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text);
}

/**
 * Classifies an IP address for the fetcher's SSRF guard.
 *
 * @param address dotted-quad IPv4 or IPv6 text (no brackets, no zone)
 * @returns the verdict; never throws (unparsable text is `invalid`, not public)
 */
export function classifyAddress(address: string): AddressClass {
  if (!isIpLiteral(address) || address.includes("%")) {
    return { address, range: "invalid", public: false, description: words("invalid") };
  }
  // ipaddr.js reads `::a.b.c.d` as `::ffff:a.b.c.d` (IPv4-mapped); RFC 4291 §2.5.5.1 says it is the
  // IPv4-compatible `::a.b.c.d`. The WHATWG URL parser's IPv6 reader follows the RFC, so dotted tails
  // are rewritten to hex through it first.
  const text = address.includes(":") && address.includes(".")
    ? new URL(`https://[${address}]/`).hostname.slice(1, -1)
    : address;
  const ip = ipaddr.parse(text);
  if (ip.kind() === "ipv4") {
    const range = (ip as ipaddr.IPv4).range();
    return { address, range, public: range === "unicast", description: words(range) };
  }
  const v6 = ip as ipaddr.IPv6;
  const range = v6.range();
  if (range === "ipv4Mapped" || (range === "rfc6052" && v6.match(NAT64_WELL_KNOWN))) {
    const inner = range === "ipv4Mapped"
      ? v6.toIPv4Address()
      : ipaddr.fromByteArray(v6.toByteArray().slice(12)) as ipaddr.IPv4; // RFC 6052 §2.2, /96 prefix
    const innerRange = inner.range();
    const innerText = inner.toString();
    return {
      address,
      range,
      embedded: { address: innerText, range: innerRange },
      public: innerRange === "unicast",
      description: `${words(range)} ${words(innerRange)} ${innerText}`,
    };
  }
  if (range !== "unicast") return { address, range, public: false, description: words(range) };
  if (v6.match(IPV4_COMPATIBLE)) {
    return { address, range: "ipv4Compatible", public: false, description: words("ipv4Compatible") };
  }
  if (!v6.match(GLOBAL_UNICAST)) {
    return { address, range: "unassigned", public: false, description: words("unassigned") };
  }
  return { address, range, public: true, description: words(range) };
}
