import { describe, expect, test } from "bun:test";
import { ReleaseError } from "./errors";
import { DEFAULT_RELEASE_URL, latestManifestUrl, releaseBaseUrl, versionFileUrl } from "./layout";

describe("release layout", () => {
  test("version files and the latest manifest", () => {
    expect(versionFileUrl("https://r.example/isol8", "1.2.3", "SHA256SUMS")).toBe("https://r.example/isol8/v1.2.3/SHA256SUMS");
    expect(latestManifestUrl("https://r.example/isol8")).toBe("https://r.example/isol8/latest/manifest.json");
  });

  test("ISOL8_RELEASE_URL overrides the default; trailing slashes go", () => {
    expect(releaseBaseUrl({})).toBe(DEFAULT_RELEASE_URL);
    expect(releaseBaseUrl({ ISOL8_RELEASE_URL: "" })).toBe(DEFAULT_RELEASE_URL);
    expect(releaseBaseUrl({ ISOL8_RELEASE_URL: "https://mirror.example/isol8//" })).toBe("https://mirror.example/isol8");
  });

  test.each(["http://127.0.0.1:8080/rel", "http://localhost:1", "http://[::1]:9/x"])("plain HTTP to loopback is allowed: %s", (url) => {
    expect(releaseBaseUrl({ ISOL8_RELEASE_URL: url })).toBe(url);
  });

  test.each(["http://mirror.example/isol8", "ftp://127.0.0.1/x", "file:///tmp/rel", "not a url"])("refused: %s", (url) => {
    expect(() => releaseBaseUrl({ ISOL8_RELEASE_URL: url })).toThrow(ReleaseError);
    expect(() => releaseBaseUrl({ ISOL8_RELEASE_URL: url })).toThrow(`Cannot use release URL "${url}"`);
  });
});
