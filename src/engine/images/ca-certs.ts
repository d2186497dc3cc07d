import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export interface CaCertificate {
  /** File name in the image's trust store (stable: derived from the content). */
  name: string;
  pem: string;
}

export interface CaSourceOptions {
  /** Trust the host's local CA directory and NODE_EXTRA_CA_CERTS / SSL_CERT_FILE. */
  fromHost: boolean;
  /** More PEM files. */
  files: readonly string[];
  env?: NodeJS.ProcessEnv;
  localCaDir?: string;
}

function pemFiles(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    try {
      if (statSync(path).isDirectory()) out.push(...pemFiles(path));
      else if (name.endsWith(".crt") || name.endsWith(".pem")) out.push(path);
    } catch {}
  }
  return out;
}

/** The files whose certificates go into the images, in a stable order. */
export function caSourceFiles(options: CaSourceOptions): string[] {
  const env = options.env ?? process.env;
  const files: string[] = [];
  if (options.fromHost) {
    files.push(...pemFiles(options.localCaDir ?? "/usr/local/share/ca-certificates"));
    for (const key of ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"]) {
      const value = env[key];
      if (value) files.push(value);
    }
  }
  files.push(...options.files);
  return [...new Set(files)];
}

/** Splits PEM text into certificates, de-duplicated by content. */
export function splitCertificates(texts: readonly string[]): CaCertificate[] {
  const seen = new Map<string, CaCertificate>();
  for (const text of texts) {
    for (const pem of text.match(PEM) ?? []) {
      const normalized = pem.replace(/\r\n/g, "\n").trim();
      const digest = createHash("sha256").update(normalized).digest("hex").slice(0, 16);
      if (!seen.has(digest)) seen.set(digest, { name: `isol8-${digest}.crt`, pem: `${normalized}\n` });
    }
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Reads every configured source; unreadable files are reported, not fatal. */
export function collectCaCertificates(options: CaSourceOptions): { certificates: CaCertificate[]; unreadable: string[] } {
  const texts: string[] = [];
  const unreadable: string[] = [];
  for (const file of caSourceFiles(options)) {
    try {
      texts.push(readFileSync(file, "utf8"));
    } catch {
      unreadable.push(file);
    }
  }
  return { certificates: splitCertificates(texts), unreadable };
}
