// The playground at GET / in a real headless Chromium (Debian's package, .ci/provision-chromium.sh),
// driven by playwright-core against `isol8 serve` (the compiled binary, real Docker): a person types
// a key, runs code and sees its output stream in. Screenshots go to .ci/artifacts/playground/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { ROOT } from "../helpers";
import { serverProcesses, type StartedServer } from "./server-process";

const CHROMIUM = "/usr/bin/chromium";
const KEY = "playground-e2e-key";
const SHOTS = join(ROOT, ".ci", "artifacts", "playground");
// Without the background-networking flags Chromium tries to reach the network (and fails).
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const servers = serverProcesses("isol8-playground-");
const profile = mkdtempSync(join(tmpdir(), "isol8-chromium-"));
let server: StartedServer;
let browser: BrowserContext;
/** Console errors of every page (CSP violations among them). */
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Cannot run the browser test: ${CHROMIUM} is missing (run .ci/provision-chromium.sh as root)`);
  mkdirSync(SHOTS, { recursive: true });
  server = await servers.start({ keys: [KEY] });
  browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 } });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  servers.cleanup();
  rmSync(profile, { recursive: true, force: true });
});

async function openPlayground(): Promise<Page> {
  const page = await browser.newPage();
  page.on("console", (message) => message.type() === "error" && consoleErrors.push(message.text()));
  page.on("pageerror", (error) => consoleErrors.push(error.message));
  const response = await page.goto(`${server.url}/`);
  expect(response?.status()).toBe(200);
  expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
  return page;
}

/** The page's globals as a predicate sees them (this file is type-checked without the DOM library). */
type PageGlobals = { document: { querySelector(selector: string): { textContent: string | null } | null } };

/** Waits until an element's text is exactly `text` (a function predicate: the page's CSP forbids eval). */
async function waitForText(page: Page, selector: string, text: string, timeout: number): Promise<void> {
  await page.waitForFunction(([s, t]) => (globalThis as unknown as PageGlobals).document.querySelector(s)?.textContent === t, [selector, text] as const, { timeout });
}

/** Replaces the editor's text as a person would: select all, type. */
async function typeCode(page: Page, code: string): Promise<void> {
  await page.click(".cm-content");
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(code);
}

describe("the playground in Chromium", () => {
  test("type a key, run print(6*7), see 42 streamed; the key stays in this tab's sessionStorage only", async () => {
    const page = await openPlayground();
    expect(await page.inputValue("#runtime")).toBe("python");
    expect(await page.textContent(".cm-content")).toBe("print(6*7)");
    await page.fill("#key", KEY);
    await page.click("#run");
    await page.waitForSelector('#status[data-state="done"]', { timeout: 30_000 });
    expect(await page.textContent("#output")).toBe("42\n");
    expect(await page.textContent("#status")).toStartWith("exit 0");
    await page.screenshot({ path: join(SHOTS, "run-print-6x7.png"), fullPage: true });

    // Streamed: the first line shows while the program still runs.
    await typeCode(page, 'import time\nprint(6*7, flush=True)\ntime.sleep(2)\nprint("done")\n');
    await page.click("#run");
    await waitForText(page, "#output", "42\n", 30_000);
    expect(await page.getAttribute("#status", "data-state")).toBe("running");
    await page.screenshot({ path: join(SHOTS, "streaming.png"), fullPage: true });
    await page.waitForSelector('#status[data-state="done"]', { timeout: 30_000 });
    expect(await page.textContent("#output")).toBe("42\ndone\n");

    // (Page code as text, evaluated by the browser's protocol rather than eval: this file is type-checked without the DOM library.)
    const storage = await page.evaluate('({ session: sessionStorage.getItem("isol8.apiKey"), local: localStorage.length, cookie: document.cookie, url: location.href })');
    expect(storage).toEqual({ session: KEY, local: 0, cookie: "", url: `${server.url}/` });
  }, 60_000);

  test("a wrong key shows the server's error", async () => {
    const page = await openPlayground();
    await page.fill("#key", "not-the-key");
    await page.click("#run");
    await page.waitForSelector('#status[data-state="error"]', { timeout: 30_000 });
    expect(await page.textContent("#status")).toBe("HTTP 403: Invalid API key");
    expect(await page.textContent("#output")).toBe("");
    await page.screenshot({ path: join(SHOTS, "wrong-key.png"), fullPage: true });
  }, 30_000);

  test("an image the program writes is shown; a session's file can be uploaded and opened", async () => {
    const page = await openPlayground();
    await page.fill("#key", KEY);
    await page.click("summary");
    // A 1x1 red PNG.
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    await typeCode(page, `import base64\nopen("/sandbox/dot.png", "wb").write(base64.b64decode("${png}"))\nprint("drawn")\n`);
    await page.fill("#outputs", "/sandbox/dot.png");
    await page.click("#run");
    await page.waitForSelector('#status[data-state="done"]', { timeout: 30_000 });
    const width = await page.evaluate('(async () => { const image = document.querySelector("#results img"); await image.decode(); return image.naturalWidth; })()');
    expect(width).toBe(1);

    await page.fill("#session", "playground-files");
    await page.fill("#outputs", "");
    await typeCode(page, 'print("session")\n');
    await page.click("#run");
    await page.waitForSelector('#status[data-state="done"]', { timeout: 30_000 });
    await page.setInputFiles("#upload", { name: "note.txt", mimeType: "text/plain", buffer: Buffer.from("hello from the page") });
    await page.click("#upload-button");
    await waitForText(page, "#status", "Uploaded /sandbox/note.txt", 15_000);
    await page.fill("#file-path", "/sandbox/note.txt");
    await page.click("#download");
    await page.waitForSelector("#file-view pre", { timeout: 15_000 });
    expect(await page.textContent("#file-view pre")).toBe("hello from the page");
    await page.screenshot({ path: join(SHOTS, "image-and-files.png"), fullPage: true });
    expect((await fetch(`${server.url}/session/playground-files`, { method: "DELETE", headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
  }, 60_000);

  test("program output is text: markup in it is shown, never run", async () => {
    const page = await openPlayground();
    await page.fill("#key", KEY);
    const markup = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`;
    await typeCode(page, `print(${JSON.stringify(markup)})\n`);
    await page.click("#run");
    await page.waitForSelector('#status[data-state="done"]', { timeout: 30_000 });
    expect(await page.textContent("#output")).toBe(`${markup}\n`);
    expect(await page.$$("#output img, #output script")).toHaveLength(0);
    expect(await page.title()).toBe("isol8 playground");
  }, 30_000);

  test("the page ran under its Content-Security-Policy without a violation or a script error", () => {
    expect(consoleErrors.filter((text) => !text.startsWith("Failed to load resource: the server responded with a status of 403"))).toEqual([]);
  });
});
