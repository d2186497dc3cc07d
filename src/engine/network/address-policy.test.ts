// Pure vectors: nothing here connects anywhere or resolves any name.
import { describe, expect, test } from "bun:test";
import { type AddressClass, canonicalHost, cidrContains, classifyAddress, parseCidr } from "./address-policy";
import { parseIpLiteral } from "./ip-address";

describe("canonicalHost", () => {
  test.each([
    ["sink.test", "sink.test"],
    ["SINK.Test", "sink.test"],
    ["sink.test.", "sink.test"],
    ["API.ALLOWED.TEST.", "api.allowed.test"],
    ["a-b_c.test", "a-b_c.test"],
    ["[::1]", "::1"],
    ["::1", "::1"],
    ["[::FFFF:7F00:1]", "::ffff:127.0.0.1"],
    ["127.0.0.1", "127.0.0.1"],
    ["127.0.0.1.", "127.0.0.1"],
    ["127.1", "127.0.0.1"],
    ["0x7f.1", "127.0.0.1"],
    ["2130706433", "127.0.0.1"],
    ["0177.0.0.1", "127.0.0.1"],
    ["１２７.０.０.１", "127.0.0.1"], // full-width digits map to an IP literal
    ["ａｌｌｏｗｅｄ.test", "allowed.test"],
    ["a。b", "a.b"], // ideographic full stop is a label separator
    ["аllowed.test", "xn--llowed-2nf.test"], // Cyrillic а: a different host, in punycode
    ["Bücher.test", "xn--bcher-kva.test"],
    ["xn--bcher-kva.test", "xn--bcher-kva.test"],
    ["localhost", "localhost"],
  ])("%j → %j", (host, expected) => {
    expect(canonicalHost(host)).toBe(expected);
  });

  test.each([
    "",
    ".",
    "..",
    "a..b",
    "sink.test..",
    ".sink.test",
    "a b",
    " sink.test",
    "sink.test\u0000",
    "sink\u0000.test",
    "sink.test/evil",
    "sink.test\\evil",
    "sink.test?x",
    "sink.test#x",
    "user@sink.test",
    "sink.test:80",
    "sink%2etest",
    "a／b",
    "[::1",
    "::1]",
    "[127.0.0.1]",
    "[sink.test]",
    "fe80::1%eth0",
    "1.2.3.4.5",
    "foo.123",
    "foo.0x1",
    "256.0.0.1",
    "xn--a.test",
    `${"a".repeat(64)}.test`,
    `${"a.".repeat(127)}test`,
  ])("%j is refused", (host) => {
    expect(canonicalHost(host)).toBeNull();
  });
});

describe("classifyAddress", () => {
  const vectors: [string, AddressClass][] = [
    ["8.8.8.8", "public"],
    ["1.1.1.1", "public"],
    ["100.63.255.255", "public"],
    ["100.128.0.0", "public"],
    ["172.15.255.255", "public"],
    ["172.32.0.0", "public"],
    ["192.169.0.0", "public"],
    ["198.17.255.255", "public"],
    ["198.20.0.0", "public"],
    ["223.255.255.255", "public"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["100.64.0.1", "private"],
    ["100.127.255.255", "private"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["169.254.169.254", "metadata"],
    ["169.254.0.1", "link-local"],
    ["169.254.170.2", "link-local"],
    ["168.63.129.16", "metadata"],
    ["100.100.100.200", "metadata"],
    ["172.16.0.1", "private"],
    ["172.17.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.0.0.8", "reserved"],
    ["192.0.2.1", "test-net"],
    ["198.51.100.7", "test-net"],
    ["203.0.113.80", "test-net"],
    ["192.168.0.1", "private"],
    ["198.18.0.1", "test-net"],
    ["198.19.255.255", "test-net"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "metadata"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:8.8.8.8", "public"],
    ["::ffff:0:0", "unspecified"],
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b::10.0.0.1", "private"],
    ["64:ff9b::169.254.169.254", "metadata"],
    ["64:ff9b::8.8.8.8", "public"],
    ["64:ff9b:1::1", "private"],
    ["2002:7f00:1::", "loopback"], // 6to4 of 127.0.0.1
    ["2002:a00:1::1", "private"],
    ["2002:808:808::1", "public"],
    ["::127.0.0.1", "loopback"], // deprecated IPv4-compatible
    ["::2", "unspecified"],
    ["fc00::1", "private"],
    ["fd00::1", "private"],
    ["fdff:ffff::1", "private"],
    ["fd00:ec2::254", "metadata"],
    ["fd00:ec2::253", "private"],
    ["fe80::1", "link-local"],
    ["febf::1", "link-local"],
    ["fec0::1", "private"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved"],
    ["2001::1", "reserved"],
    ["100::1", "reserved"],
    ["4000::1", "reserved"],
    ["2606:4700::1111", "public"],
    ["2a00:1450::1", "public"],
  ];
  test.each(vectors)("%s is %s", (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  test("accepts a parsed address and refuses text that is not one", () => {
    expect(classifyAddress(parseIpLiteral("0x7f.1")!)).toBe("loopback");
    expect(() => classifyAddress("sink.test")).toThrow(TypeError);
  });
});

describe("CIDR ranges", () => {
  const contains = (cidr: string, address: string) => cidrContains(parseCidr(cidr)!, parseIpLiteral(address)!);

  test.each([
    ["127.0.0.1/32", "127.0.0.1", true],
    ["127.0.0.1/32", "127.0.0.2", false],
    ["127.0.0.1", "127.0.0.1", true],
    ["127.0.0.0/8", "127.255.0.1", true],
    ["10.0.0.0/8", "11.0.0.0", false],
    ["172.16.0.0/12", "172.31.255.255", true],
    ["172.16.0.0/12", "172.32.0.0", false],
    ["0.0.0.0/0", "203.0.113.9", true],
    ["127.0.0.1/32", "::ffff:127.0.0.1", true], // mapped addresses match IPv4 ranges
    ["::ffff:127.0.0.0/104", "127.0.0.9", true], // mapped ranges are IPv4 ranges
    ["10.1.2.3/8", "10.200.0.1", true], // host bits are cleared
    ["fd00::/8", "fd12::1", true],
    ["fd00::/8", "fe00::1", false],
    ["::1/128", "::1", true],
    ["::1/128", "127.0.0.1", false],
    ["::/0", "2001:db8::1", true],
    ["::/0", "10.0.0.1", false],
  ] as const)("%s contains %s: %p", (cidr, address, expected) => {
    expect(contains(cidr, address)).toBe(expected);
  });

  test.each(["", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/08", "10.0.0.0/-1", "10.1/8", "0x0a.0.0.0/8", "sink.test/32", "10.0.0.0/8/8"])(
    "%j is not a range",
    (text) => {
      expect(parseCidr(text)).toBeNull();
    },
  );
});
