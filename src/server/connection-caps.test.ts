import { describe, expect, test } from "bun:test";
import { type ConnectionCapLimits, createConnectionCounter, exceededCap, type OpenCounts } from "./connection-caps";

const limits: ConnectionCapLimits = { maxConnections: 10, maxConnectionsPerAddress: 4, maxUnauthenticatedConnections: 6 };

describe("exceededCap", () => {
  test.each<[string, OpenCounts, ReturnType<typeof exceededCap>]>([
    ["nothing open", { open: 0, fromAddress: 0, unauthenticated: 0 }, null],
    ["one under every cap", { open: 9, fromAddress: 3, unauthenticated: 5 }, null],
    ["all connections at the cap", { open: 10, fromAddress: 0, unauthenticated: 0 }, "maxConnections"],
    ["the address at its cap", { open: 4, fromAddress: 4, unauthenticated: 0 }, "maxConnectionsPerAddress"],
    ["unauthenticated at the cap (authenticated ones do not count)", { open: 8, fromAddress: 1, unauthenticated: 6 }, "maxUnauthenticatedConnections"],
    ["several full: all connections named first", { open: 10, fromAddress: 4, unauthenticated: 6 }, "maxConnections"],
    ["address and unauthenticated full: the address named", { open: 6, fromAddress: 4, unauthenticated: 6 }, "maxConnectionsPerAddress"],
  ])("%s", (_name, counts, expected) => {
    expect(exceededCap(counts, limits)).toBe(expected);
  });
});

describe("createConnectionCounter", () => {
  const openAll = (counter: ReturnType<typeof createConnectionCounter>, addresses: string[]) =>
    addresses.map((address) => {
      const opened = counter.open(address);
      if (typeof opened === "string") throw new Error(`refused ${address}: ${opened}`);
      return opened;
    });

  test("per address: the fifth connection from one address is refused, another address still opens", () => {
    const counter = createConnectionCounter(limits);
    openAll(counter, ["203.0.113.9", "203.0.113.9", "203.0.113.9", "203.0.113.9"]);
    expect(counter.open("203.0.113.9")).toBe("maxConnectionsPerAddress");
    expect(typeof counter.open("203.0.113.10")).toBe("object");
  });

  test("IPv6 counts per /64, and an IPv4-mapped address as the IPv4 one", () => {
    const counter = createConnectionCounter({ ...limits, maxUnauthenticatedConnections: 100 });
    openAll(counter, ["2001:db8:1:2::1", "2001:db8:1:2::ffff", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::9"]);
    expect(counter.open("2001:db8:1:2::77")).toBe("maxConnectionsPerAddress");
    expect(typeof counter.open("2001:db8:1:3::1")).toBe("object");
    openAll(counter, ["192.0.2.1", "::ffff:192.0.2.1", "192.0.2.1", "::ffff:192.0.2.1"]);
    expect(counter.open("192.0.2.1")).toBe("maxConnectionsPerAddress");
  });

  test("an authenticated connection leaves the unauthenticated count but stays in the others", () => {
    const counter = createConnectionCounter(limits);
    const opened = openAll(counter, ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]);
    expect(counter.open("10.0.0.7")).toBe("maxUnauthenticatedConnections");
    opened[0]!.authenticate();
    opened[0]!.authenticate(); // idempotent
    expect(counter.stats()).toEqual({ open: 6, unauthenticated: 5, addresses: 6 });
    expect(opened[0]!.authenticated).toBe(true);
    expect(typeof counter.open("10.0.0.7")).toBe("object");
    expect(counter.open("10.0.0.8")).toBe("maxUnauthenticatedConnections");
  });

  test("all connections: authenticated ones count too", () => {
    const counter = createConnectionCounter({ ...limits, maxUnauthenticatedConnections: 100 });
    for (const connection of openAll(counter, Array.from({ length: 10 }, (_, i) => `10.0.1.${i}`))) connection.authenticate();
    expect(counter.open("10.0.2.1")).toBe("maxConnections");
  });

  test("a refused connection is not counted", () => {
    const counter = createConnectionCounter({ ...limits, maxConnectionsPerAddress: 1 });
    openAll(counter, ["10.0.0.1"]);
    for (let i = 0; i < 5; i++) expect(counter.open("10.0.0.1")).toBe("maxConnectionsPerAddress");
    expect(counter.stats()).toEqual({ open: 1, unauthenticated: 1, addresses: 1 });
  });

  test("closing gives everything back once; authenticate() after close does nothing; the address is forgotten", () => {
    const counter = createConnectionCounter(limits);
    const [a, b, c] = openAll(counter, ["10.0.0.1", "10.0.0.1", "10.0.0.2"]);
    b!.authenticate();
    for (const connection of [a!, b!, c!]) {
      connection.close();
      connection.close();
      connection.authenticate();
    }
    expect(counter.stats()).toEqual({ open: 0, unauthenticated: 0, addresses: 0 });
  });

  test("a peer without an address (Unix socket, in-process) counts under one key", () => {
    const counter = createConnectionCounter({ ...limits, maxConnectionsPerAddress: 1 });
    openAll(counter, [null as unknown as string]);
    expect(counter.open(null)).toBe("maxConnectionsPerAddress");
  });
});
