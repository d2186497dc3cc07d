import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { caSourceFiles, collectCaCertificates, splitCertificates } from "./ca-certs";

/** A fake PEM block: the shape of a certificate, not a real one. */
function fakePem(seed: string, eol = "\n"): string {
  const body = Buffer.from(`fake certificate ${seed} `.repeat(6)).toString("base64");
  const lines = body.match(/.{1,64}/g) ?? [];
  return ["-----BEGIN CERTIFICATE-----", ...lines, "-----END CERTIFICATE-----"].join(eol);
}

function expectedName(pem: string): string {
  const normalized = pem.replace(/\r\n/g, "\n").trim();
  return `isol8-${createHash("sha256").update(normalized).digest("hex").slice(0, 16)}.crt`;
}

const A = fakePem("a");
const B = fakePem("b");
const C = fakePem("c");

describe("splitCertificates", () => {
  test("splits a bundle into certificates", () => {
    const certs = splitCertificates([`${A}\n${B}\n`]);
    expect(certs).toHaveLength(2);
    expect(certs.map((c) => c.pem).sort()).toEqual([`${A}\n`, `${B}\n`].sort());
  });

  test("ignores text around and between the blocks", () => {
    const bundle = `# Issuer: Example Proxy CA\n${A}\n\nsome comment\n${B}\ntrailing`;
    expect(splitCertificates([bundle]).map((c) => c.pem).sort()).toEqual([`${A}\n`, `${B}\n`].sort());
  });

  test("de-duplicates by content, across and within texts", () => {
    const certs = splitCertificates([`${A}\n${A}\n`, `${B}\n${A}`, B]);
    expect(certs).toHaveLength(2);
  });

  test("CRLF and LF copies of one certificate are the same certificate", () => {
    const crlf = fakePem("a", "\r\n");
    const certs = splitCertificates([`${crlf}\r\n`, A]);
    expect(certs).toHaveLength(1);
    expect(certs[0]!.pem).toBe(`${A}\n`);
    expect(certs[0]!.pem).not.toContain("\r");
  });

  test("names are stable: derived from the content, independent of order and source", () => {
    const one = splitCertificates([A, B, C]);
    const two = splitCertificates([`${C}\n${B}`, A]);
    expect(one).toEqual(two);
    for (const cert of one) {
      expect(cert.name).toBe(expectedName(cert.pem));
      expect(cert.name).toMatch(/^isol8-[0-9a-f]{16}\.crt$/);
    }
    expect(one.map((c) => c.name)).toEqual([...one.map((c) => c.name)].sort());
  });

  test("no certificates in the text", () => {
    expect(splitCertificates([])).toEqual([]);
    expect(splitCertificates(["", "not a certificate", "-----BEGIN CERTIFICATE-----\nunterminated"])).toEqual([]);
  });

  test("other PEM blocks (keys) are not certificates", () => {
    const key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
    expect(splitCertificates([`${key}\n${A}`]).map((c) => c.pem)).toEqual([`${A}\n`]);
  });
});

describe("caSourceFiles and collectCaCertificates", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), "isol8-ca-"));
    dirs.push(dir);
    return dir;
  }

  test("host sources: the local CA directory (recursively, .crt/.pem), then the env files", () => {
    const dir = tempDir();
    const localCaDir = join(dir, "local");
    mkdirSync(join(localCaDir, "sub"), { recursive: true });
    writeFileSync(join(localCaDir, "b.crt"), B);
    writeFileSync(join(localCaDir, "a.pem"), A);
    writeFileSync(join(localCaDir, "sub", "c.crt"), C);
    writeFileSync(join(localCaDir, "readme.txt"), "not a cert");
    const env = { NODE_EXTRA_CA_CERTS: join(dir, "extra.pem"), SSL_CERT_FILE: join(dir, "bundle.pem") };
    expect(caSourceFiles({ fromHost: true, files: [join(dir, "more.pem")], env, localCaDir })).toEqual([
      join(localCaDir, "a.pem"),
      join(localCaDir, "b.crt"),
      join(localCaDir, "sub", "c.crt"),
      env.NODE_EXTRA_CA_CERTS,
      env.SSL_CERT_FILE,
      join(dir, "more.pem"),
    ]);
  });

  test("without host sources only the configured files are used, without duplicates", () => {
    const env = { NODE_EXTRA_CA_CERTS: "/x/extra.pem" };
    expect(caSourceFiles({ fromHost: false, files: ["/x/a.pem", "/x/a.pem", "/x/b.pem"], env, localCaDir: "/nonexistent" })).toEqual([
      "/x/a.pem",
      "/x/b.pem",
    ]);
  });

  test("unreadable files are reported, not fatal", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a.pem"), `${A}\n${B}`);
    writeFileSync(join(dir, "dup.pem"), A);
    const missing = join(dir, "missing.pem");
    const result = collectCaCertificates({
      fromHost: false,
      files: [join(dir, "a.pem"), missing, join(dir, "dup.pem")],
      env: {},
    });
    expect(result.unreadable).toEqual([missing]);
    expect(result.certificates).toHaveLength(2);
  });
});
