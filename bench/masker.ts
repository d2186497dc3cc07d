/**
 * bench/masker: throughput of the streaming secret masker over 1 MiB of random text in
 * 64 KiB chunks (the size of one pipe read), with 0, 1 and 8 secrets. Baseline in the same
 * run: the same masker given only the values themselves (what was masked before derived
 * forms). A second text carries a secret form every ~4 KiB, to price the matches too.
 *
 *   bun bench/masker.ts [--n 15]
 */
import { createMasker } from "../src/engine/output/masker";
import { secretNeedles } from "../src/engine/output/secret-needles";
import { arg, summary } from "./stats";

const N = Number(arg("n", "15"));
const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;

/** Deterministic pseudo-random numbers, so every run masks the same text. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

const next = random(42);
const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=-_ %\n";
const randomText = (length: number) => Array.from({ length }, () => LETTERS[Math.floor(next() * LETTERS.length)]).join("");
const secrets = Array.from({ length: 8 }, (_, i) => `sk-live-${i}-${randomText(24).replace(/\s/g, "x")}`);

const plain = Buffer.from(randomText(MiB));
const withForms = (() => {
  const forms = secretNeedles(secrets.slice(0, 1)).map((n) => n.toString("latin1"));
  let text = "";
  for (let i = 0; text.length < MiB; i++) text += randomText(4096) + forms[i % forms.length];
  return Buffer.from(text.slice(0, MiB), "latin1");
})();

/** Median MB/s of masking the data in pipe-sized chunks. */
function throughput(needles: Buffer[], data: Buffer): number {
  const seconds: number[] = [];
  for (let round = 0; round < N; round++) {
    const masker = createMasker(needles);
    const t = performance.now();
    for (let i = 0; i < data.length; i += CHUNK) masker.push(data.subarray(i, i + CHUNK));
    masker.flush();
    seconds.push((performance.now() - t) / 1000);
  }
  return data.length / 1e6 / summary(seconds).p50;
}

console.log(`bench/masker: 1 MiB in 64 KiB chunks, median of ${N} rounds (MB/s; higher is better)`);
for (const [label, data] of [["random text", plain], ["a secret form every ~4 KiB", withForms]] as const) {
  for (const count of [0, 1, 8]) {
    const values = secrets.slice(0, count);
    const rawOnly = throughput(values.map((s) => Buffer.from(s)), data);
    const derived = throughput(secretNeedles(values), data);
    const needles = secretNeedles(values).length;
    console.log(
      `${label}, ${count} secret(s): values only ${rawOnly.toFixed(0)} MB/s; with derived forms (${needles} needles) ${derived.toFixed(0)} MB/s; ratio ${(derived / rawOnly).toFixed(2)}`,
    );
  }
}
