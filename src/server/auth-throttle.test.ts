import { describe, expect, test } from "bun:test";
import { addressKeyOf, createAuthThrottle, type Peer } from "./auth-throttle";

function throttle(limit = 3, windowMs = 60_000) {
  let clock = 1_000_000;
  const logged: string[] = [];
  const t = createAuthThrottle({ limit, windowMs, connectionTrustMs: 18_000, now: () => clock, log: (line) => logged.push(line) });
  return { t, logged, advance: (ms: number) => (clock += ms) };
}

const peer = (address: string, port = 40_000): Peer => ({ address, port });

describe("createAuthThrottle", () => {
  test("after `limit` wrong keys in the window the address waits until the window ends; then keys are checked again", () => {
    const { t, advance } = throttle(3, 60_000);
    const attacker = peer("203.0.113.9");
    for (let i = 0; i < 3; i++) {
      expect(t.retryAfter(attacker)).toBeNull();
      t.failed(attacker);
    }
    expect(t.retryAfter(attacker)).toBe(60);
    advance(45_500);
    expect(t.retryAfter(attacker)).toBe(15);
    advance(14_500);
    expect(t.retryAfter(attacker)).toBeNull();
  });

  test("failures spread over windows never throttle", () => {
    const { t, advance } = throttle(3, 10_000);
    const client = peer("198.51.100.7");
    for (let i = 0; i < 10; i++) {
      t.failed(client);
      t.failed(client);
      advance(10_000);
      expect(t.retryAfter(client)).toBeNull();
    }
  });

  test("other addresses are not affected", () => {
    const { t } = throttle(2);
    t.failed(peer("203.0.113.9"));
    t.failed(peer("203.0.113.9"));
    expect(t.retryAfter(peer("203.0.113.9"))).not.toBeNull();
    expect(t.retryAfter(peer("203.0.113.10"))).toBeNull();
  });

  test("a connection where a key succeeded stays usable while its address is throttled; new connections wait", () => {
    const { t } = throttle(2);
    const client = peer("10.0.0.5", 50_001);
    t.trust(client);
    t.failed(peer("10.0.0.5", 50_002));
    t.failed(peer("10.0.0.5", 50_003));
    expect(t.retryAfter(client)).toBeNull();
    expect(t.retryAfter(peer("10.0.0.5", 50_004))).not.toBeNull();
  });

  test("a trusted connection loses its trust at its first wrong key, and when unseen for longer than the idle timeout", () => {
    const { t, advance } = throttle(1);
    const a = peer("10.0.0.5", 1);
    const b = peer("10.0.0.5", 2);
    t.trust(a);
    t.trust(b);
    t.failed(a);
    expect(t.retryAfter(a)).not.toBeNull();
    expect(t.retryAfter(b)).toBeNull();
    advance(18_001);
    expect(t.retryAfter(b)).not.toBeNull();
  });

  test("IPv6 peers are counted per /64", () => {
    const { t } = throttle(2);
    t.failed(peer("2001:db8:1:2::a"));
    t.failed(peer("2001:db8:1:2:ffff::b"));
    expect(t.retryAfter(peer("2001:db8:1:2::c"))).not.toBeNull();
    expect(t.retryAfter(peer("2001:db8:1:3::a"))).toBeNull();
  });

  test("logs each counted failure and one line when throttling starts", () => {
    const { t, logged } = throttle(2);
    t.failed(peer("203.0.113.9"));
    t.failed(peer("203.0.113.9"));
    t.retryAfter(peer("203.0.113.9"));
    expect(logged).toEqual([
      "auth: wrong API key from 203.0.113.9 (1 of 2 within 60 s)",
      "auth: 2 wrong API keys from 203.0.113.9 within 60 s: its new connections get 429 for 60 s",
    ]);
  });

  test("remembers at most maxEntries addresses (the oldest are forgotten)", () => {
    let clock = 0;
    const t = createAuthThrottle({ limit: 1, windowMs: 60_000, connectionTrustMs: 1, now: () => clock, maxEntries: 2 });
    t.failed(peer("192.0.2.1"));
    clock++;
    t.failed(peer("192.0.2.2"));
    t.failed(peer("192.0.2.3"));
    expect(t.retryAfter(peer("192.0.2.1"))).toBeNull();
    expect(t.retryAfter(peer("192.0.2.3"))).not.toBeNull();
  });
});

describe("addressKeyOf", () => {
  test.each<[string | null, string]>([
    [null, "local"],
    ["127.0.0.1", "127.0.0.1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::FFFF:10.1.2.3", "10.1.2.3"],
    ["::1", "0:0:0:0::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["2001:0db8:0000:0042:0000:8a2e:0370:7334", "2001:db8:0:42::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["64:ff9b::192.0.2.33", "64:ff9b:0:0::/64"],
    ["not:an:address:::", "not:an:address:::"],
  ])("%p → %p", (address, key) => {
    expect(addressKeyOf(address)).toBe(key);
  });
});
