import { describe, expect, test } from "bun:test";
import { formatIp, mapIpv4, parseIpLiteral, unmapIpv4 } from "./ip-address";

/** The literal's usual text form, or null when it is not an IP literal. */
const norm = (text: string) => {
  const ip = parseIpLiteral(text);
  return ip ? formatIp(ip) : null;
};

describe("parseIpLiteral: IPv4 in every form inet_aton accepts", () => {
  test.each([
    ["127.0.0.1", "127.0.0.1"],
    ["127.0.0.1.", "127.0.0.1"],
    ["2130706433", "127.0.0.1"],
    ["0x7f000001", "127.0.0.1"],
    ["0X7F000001", "127.0.0.1"],
    ["017700000001", "127.0.0.1"],
    ["0177.0.0.1", "127.0.0.1"],
    ["0x7f.0.0.1", "127.0.0.1"],
    ["0x7f.0x0.0x0.0x1", "127.0.0.1"],
    ["127.1", "127.0.0.1"],
    ["127.0.1", "127.0.0.1"],
    ["0x7f.1", "127.0.0.1"],
    ["10.0x10000", "10.1.0.0"],
    ["169.254.43518", "169.254.169.254"],
    ["0xa9fea9fe", "169.254.169.254"],
    ["0251.0376.0251.0376", "169.254.169.254"],
    ["0", "0.0.0.0"],
    ["0x", "0.0.0.0"],
    ["00", "0.0.0.0"],
    ["4294967295", "255.255.255.255"],
    ["192.168.1.1", "192.168.1.1"],
    ["8.8.8.8", "8.8.8.8"],
  ])("%s → %s", (text, expected) => {
    expect(norm(text)).toBe(expected);
  });

  test.each([
    "",
    ".",
    "1..1",
    "1.2.3.4.5",
    "256.0.0.1",
    "1.2.3.256",
    "127.16777216",
    "4294967296",
    "0x100000000",
    "09",
    "08.0.0.1",
    "0x7g",
    "1.2.3.-1",
    "+1.2.3.4",
    " 127.0.0.1",
    "127.0.0.1 ",
    "1.2.3.4..",
    "example.test",
    "127.0.0.1x",
  ])("%j is not an IPv4 literal", (text) => {
    expect(norm(text)).toBeNull();
  });
});

describe("parseIpLiteral: IPv6", () => {
  test.each([
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["::", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["::ffff:127.0.0.1", "::ffff:127.0.0.1"],
    ["::ffff:7f00:1", "::ffff:127.0.0.1"],
    ["::FFFF:7F00:0001", "::ffff:127.0.0.1"],
    ["[::ffff:169.254.169.254]", "::ffff:169.254.169.254"],
    ["fd00:ec2::254", "fd00:ec2::254"],
    ["FE80::1", "fe80::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::0:1", "2001:db8::1"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["1::", "1::"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["64:ff9b::10.0.0.1", "64:ff9b::a00:1"],
    ["::127.0.0.1", "::7f00:1"],
  ])("%s → %s", (text, expected) => {
    expect(norm(text)).toBe(expected);
  });

  test.each([
    ":::",
    "1:::2",
    "1::2::3",
    ":1::",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8::",
    "12345::1",
    "g::1",
    "fe80::1%eth0",
    "[fe80::1%25eth0]",
    "::ffff:127.0.0.01",
    "::ffff:127.1",
    "::ffff:256.0.0.1",
    "1.2.3.4::",
    "[::1",
    "::1]",
    "[127.0.0.1]",
  ])("%j is not an IPv6 literal", (text) => {
    expect(norm(text)).toBeNull();
  });
});

describe("mapped addresses", () => {
  test("unmapIpv4 turns ::ffff:a.b.c.d into IPv4 and leaves others alone", () => {
    expect(formatIp(unmapIpv4(parseIpLiteral("::ffff:10.1.2.3")!))).toBe("10.1.2.3");
    expect(unmapIpv4(parseIpLiteral("::ffff:10.1.2.3")!).family).toBe(4);
    expect(formatIp(unmapIpv4(parseIpLiteral("::1")!))).toBe("::1");
    expect(formatIp(unmapIpv4(parseIpLiteral("10.1.2.3")!))).toBe("10.1.2.3");
  });

  test("mapIpv4 is the inverse", () => {
    expect(formatIp(mapIpv4(parseIpLiteral("127.0.0.1")!))).toBe("::ffff:127.0.0.1");
  });
});
