// The playground's answers: the page and its two assets, embedded in the binary (src/assets.ts
// passes them in through serve.ts), served with a strict Content-Security-Policy: scripts from
// this server only, styles from it plus the editor's own style element (a fresh nonce per page),
// requests to this server only, images from data: and blob: URLs (results).
import { randomBytes } from "node:crypto";
import { HttpError } from "./http";

export interface PlaygroundAssets {
  html: string;
  js: string;
  css: string;
}

/** Where the page names its nonce (a meta tag the editor reads). */
const NONCE_PLACEHOLDER = "__CSP_NONCE__";

/** Nothing but this server: no inline script, no other origin, no framing, no form posts. */
export function playgroundCsp(nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self' data: blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-cache",
};

const FILES: Record<string, { type: string; pick: (assets: PlaygroundAssets) => string }> = {
  "index.html": { type: "text/html; charset=utf-8", pick: (a) => a.html },
  "app.js": { type: "text/javascript; charset=utf-8", pick: (a) => a.js },
  "app.css": { type: "text/css; charset=utf-8", pick: (a) => a.css },
};

/** One file of the playground (`index.html`, `app.js`, `app.css`); 404 for any other name. */
export function playgroundResponse(assets: PlaygroundAssets, name: string): Response {
  const file = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  if (!file) throw new HttpError(404, `no playground asset "${name}"`);
  const nonce = randomBytes(16).toString("base64");
  const body = name === "index.html" ? file.pick(assets).replaceAll(NONCE_PLACEHOLDER, nonce) : file.pick(assets);
  return new Response(body, { headers: { "content-type": file.type, "content-security-policy": playgroundCsp(nonce), ...SECURITY_HEADERS } });
}
