import { describe, expect, test } from "bun:test";
import { ImageError } from "../../errors";
import { npmRegistry, pickVersion, resolveArtifact } from "./npm-artifacts";

const REGISTRY = "https://registry.example.test";

describe("pickVersion", () => {
  test("the highest stable version with the major, compared numerically", () => {
    expect(pickVersion(["1.0.0", "1.2.9", "1.2.10", "1.10.0", "1.9.99", "2.0.0", "0.9.0"], 1)).toBe("1.10.0");
  });

  test("ignores prereleases and build metadata", () => {
    const versions = ["22.1.0", "22.2.0-rc.1", "22.10.0-nightly20250101", "22.3.0+build.5", "23.0.0-beta"];
    expect(pickVersion(versions, 22)).toBe("22.1.0");
    expect(pickVersion(versions, 23)).toBeUndefined();
  });

  test("ignores malformed versions", () => {
    expect(pickVersion(["v2.0.0", "2.0", "2", "2.0.0.1", " 2.0.1", "2.0.0"], 2)).toBe("2.0.0");
  });

  test("does not confuse majors that share digits", () => {
    expect(pickVersion(["1.0.0", "11.0.0", "10.5.0"], 1)).toBe("1.0.0");
    expect(pickVersion(["1.0.0", "11.0.0", "10.5.0"], 11)).toBe("11.0.0");
  });

  test("no version with the major", () => {
    expect(pickVersion([], 1)).toBeUndefined();
    expect(pickVersion(["2.0.0"], 1)).toBeUndefined();
  });

  test("the order of the list does not matter", () => {
    const versions = ["24.1.0", "24.11.1", "24.2.0", "24.11.0"];
    expect(pickVersion(versions, 24)).toBe("24.11.1");
    expect(pickVersion([...versions].reverse(), 24)).toBe("24.11.1");
  });
});

describe("npmRegistry", () => {
  test("taken from the environment, without a trailing slash", () => {
    expect(npmRegistry({ ISOL8_NPM_REGISTRY: `${REGISTRY}/` })).toBe(REGISTRY);
    expect(npmRegistry({ npm_config_registry: `${REGISTRY}/npm//` })).toBe(`${REGISTRY}/npm`);
    expect(npmRegistry({ ISOL8_NPM_REGISTRY: REGISTRY, npm_config_registry: "https://other.example.test" })).toBe(REGISTRY);
  });
});

describe("resolveArtifact", () => {
  /** A fetch that answers one packument and records the URLs asked for. */
  function fakeFetch(body: unknown, status = 200): { fetch: typeof fetch; urls: string[] } {
    const urls: string[] = [];
    const impl = (async (input: string | URL | Request) => {
      urls.push(String(input));
      return new Response(JSON.stringify(body), { status });
    }) as typeof fetch;
    return { fetch: impl, urls };
  }

  const integrity = `sha512-${Buffer.alloc(64, 1).toString("base64")}`;

  test("resolves the highest stable version of the major, escaping the scope slash", async () => {
    const { fetch, urls } = fakeFetch({
      versions: {
        "1.1.0": { dist: { tarball: `${REGISTRY}/a-1.1.0.tgz`, integrity } },
        "1.2.0": { dist: { tarball: `${REGISTRY}/a-1.2.0.tgz`, integrity } },
        "1.3.0-canary.1": { dist: { tarball: `${REGISTRY}/a-1.3.0-canary.1.tgz`, integrity } },
      },
    });
    const artifact = await resolveArtifact(REGISTRY, "@scope/pkg", 1, fetch);
    expect(artifact).toEqual({ name: "@scope/pkg", version: "1.2.0", tarball: `${REGISTRY}/a-1.2.0.tgz`, integrity });
    expect(urls).toEqual([`${REGISTRY}/@scope%2fpkg`]);
  });

  test("refuses a version without a sha512 integrity", async () => {
    const { fetch } = fakeFetch({ versions: { "1.0.0": { dist: { tarball: `${REGISTRY}/a.tgz`, integrity: "sha1-abc" } } } });
    await expect(resolveArtifact(REGISTRY, "pkg", 1, fetch)).rejects.toBeInstanceOf(ImageError);
  });

  test("an HTTP error is an ImageError naming the package", async () => {
    const { fetch } = fakeFetch({}, 404);
    await expect(resolveArtifact(REGISTRY, "pkg", 3, fetch)).rejects.toThrow('Cannot resolve "pkg@3" from the npm registry: HTTP 404');
  });
});
