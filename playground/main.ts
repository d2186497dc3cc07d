// The playground page: a key (kept in this tab's sessionStorage only), a runtime, code, input
// and limits; output streamed as it comes; files read back (images shown); a session's files.
import type { ExecutionSummary } from "../src/protocol/execution";
import { ApiError, fromBase64, getJson, postJson, streamExecution, toBase64 } from "./api";
import { createEditor } from "./editor";

/** The built-in runtimes (set by build.ts from the runtime registry). */
declare const ISOL8_RUNTIMES: readonly string[];

const SAMPLES: Record<string, string> = {
  python: "print(6*7)\n",
  node: "console.log(6 * 7);\n",
  bun: "console.log(6 * 7);\n",
  deno: "console.log(6 * 7);\n",
  bash: "echo $((6 * 7))\n",
};
const IMAGE_TYPES: Record<string, string> = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", svg: "image/svg+xml" };
const KEY_ITEM = "isol8.apiKey";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const keyInput = $<HTMLInputElement>("key");
const runtimeSelect = $<HTMLSelectElement>("runtime");
const runButton = $<HTMLButtonElement>("run");
const stopButton = $<HTMLButtonElement>("stop");
const output = $<HTMLPreElement>("output");
const statusLine = $<HTMLDivElement>("status");
const results = $<HTMLDivElement>("results");
const fileView = $<HTMLDivElement>("file-view");

const nonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? "";
const editor = createEditor($("editor"), () => void run(), nonce);
let running: AbortController | null = null;

function setStatus(state: "idle" | "running" | "done" | "error", text: string): void {
  statusLine.dataset.state = state;
  statusLine.textContent = text;
}

function append(kind: "stdout" | "stderr", text: string): void {
  const span = document.createElement("span");
  span.className = kind;
  span.textContent = text;
  output.append(span);
  output.scrollTop = output.scrollHeight;
}

/** A file's bytes as an image (when its name says it is one) or as text. */
function showFile(target: HTMLElement, path: string, bytes: Uint8Array): void {
  const figure = document.createElement("figure");
  const type = IMAGE_TYPES[path.split(".").pop()?.toLowerCase() ?? ""];
  if (type) {
    const image = document.createElement("img");
    image.alt = path;
    image.src = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
    figure.append(image);
  } else {
    const pre = document.createElement("pre");
    pre.textContent = new TextDecoder().decode(bytes);
    figure.append(pre);
  }
  const caption = document.createElement("figcaption");
  caption.textContent = `${path} (${bytes.length} bytes)`;
  figure.append(caption);
  target.append(figure);
}

function summary(exit: ExecutionSummary): string {
  const why = exit.timedOut ? " · timed out" : exit.oomKilled ? " · out of memory" : exit.truncated ? " · output truncated" : "";
  return `exit ${exit.exitCode} · ${Math.round(exit.durationMs)} ms${why}`;
}

function key(): string | null {
  const value = keyInput.value.trim();
  if (value) return value;
  setStatus("error", "Type the server's API key first.");
  keyInput.focus();
  return null;
}

function numberOrUndefined(text: string): number | undefined {
  return text.trim() === "" ? undefined : Number(text);
}

async function run(): Promise<void> {
  const apiKey = key();
  if (!apiKey || running) return;
  const field = (id: string) => $<HTMLInputElement>(id).value.trim();
  const outputs = field("outputs").split(",").map((p) => p.trim()).filter(Boolean);
  const stdin = $<HTMLTextAreaElement>("stdin").value;
  const request = {
    runtime: runtimeSelect.value,
    code: editor.code(),
    ...(stdin ? { stdin } : {}),
    ...(numberOrUndefined(field("timeout")) !== undefined ? { timeoutMs: numberOrUndefined(field("timeout")) } : {}),
    ...(field("memory") ? { memoryLimit: field("memory") } : {}),
    ...(outputs.length ? { outputPaths: outputs } : {}),
  };
  const sessionId = field("session");
  output.replaceChildren();
  results.replaceChildren();
  setStatus("running", "Running…");
  running = new AbortController();
  runButton.disabled = true;
  stopButton.disabled = false;
  try {
    await streamExecution(apiKey, { request, ...(sessionId ? { sessionId } : {}) }, running.signal, (event) => {
      if (event.type === "stdout" || event.type === "stderr") append(event.type, event.data);
      else if (event.type === "error") setStatus("error", event.data);
      else {
        setStatus(event.data.exitCode === 0 ? "done" : "error", summary(event.data));
        for (const [path, content] of Object.entries(event.data.files ?? {})) showFile(results, path, fromBase64(content));
        for (const path of event.data.missingFiles ?? []) append("stderr", `\n(no file at ${path})`);
      }
    });
  } catch (error) {
    if (running?.signal.aborted) setStatus("error", "Stopped.");
    else setStatus("error", error instanceof ApiError ? error.message : `Cannot reach the server: ${(error as Error).message}`);
  } finally {
    running = null;
    runButton.disabled = false;
    stopButton.disabled = true;
  }
}

async function upload(): Promise<void> {
  const apiKey = key();
  const sessionId = $<HTMLInputElement>("session").value.trim();
  const file = $<HTMLInputElement>("upload").files?.[0];
  if (!apiKey) return;
  if (!sessionId || !file) return setStatus("error", "Files need a session id and a file.");
  try {
    const path = `/sandbox/${file.name}`;
    await postJson(apiKey, "/file", { sessionId, path, content: toBase64(new Uint8Array(await file.arrayBuffer())) });
    setStatus("done", `Uploaded ${path}`);
  } catch (error) {
    setStatus("error", (error as Error).message);
  }
}

async function download(): Promise<void> {
  const apiKey = key();
  const sessionId = $<HTMLInputElement>("session").value.trim();
  const path = $<HTMLInputElement>("file-path").value.trim();
  if (!apiKey) return;
  if (!sessionId || !path) return setStatus("error", "Files need a session id and a path.");
  try {
    const query = new URLSearchParams({ sessionId, path });
    const { content } = await getJson<{ content: string }>(apiKey, `/file?${query}`);
    fileView.replaceChildren();
    showFile(fileView, path, fromBase64(content));
  } catch (error) {
    setStatus("error", (error as Error).message);
  }
}

for (const name of ISOL8_RUNTIMES) runtimeSelect.append(new Option(name, name));
runtimeSelect.addEventListener("change", () => {
  editor.setRuntime(runtimeSelect.value);
  editor.setCode(SAMPLES[runtimeSelect.value] ?? "");
});
editor.setRuntime(runtimeSelect.value);
editor.setCode(SAMPLES[runtimeSelect.value] ?? "");

// The key lives in this tab only: sessionStorage, never localStorage, cookies or the URL.
keyInput.value = sessionStorage.getItem(KEY_ITEM) ?? "";
keyInput.addEventListener("input", () => sessionStorage.setItem(KEY_ITEM, keyInput.value));
$<HTMLFormElement>("key-form").addEventListener("submit", (event) => event.preventDefault());
$("forget").addEventListener("click", () => {
  sessionStorage.removeItem(KEY_ITEM);
  keyInput.value = "";
});
runButton.addEventListener("click", () => void run());
stopButton.addEventListener("click", () => running?.abort());
$("upload-button").addEventListener("click", () => void upload());
$("download").addEventListener("click", () => void download());
