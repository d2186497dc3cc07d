// Derived forms of a secret — base64 (standard and URL-safe, each alignment, padded or not),
// hex (both cases) and URL encodings — are masked like the value, collected and streamed.
// The twin runs the same program with the value as a plain env var: every form shows, so
// the probe is real. Text that only shares a start with a form passes unchanged.
import { afterAll, describe, expect, test } from "bun:test";
import { testEngine } from "../helpers";
import { streamRun } from "./execution-helpers";
import { ownedContainers } from "./owned-containers";
import { expectedForms, PRINT_FORMS, S, SECRET, text } from "./secret-forms";

const engine = testEngine();
afterAll(async () => {
  await engine.stop();
  expect(await ownedContainers(engine)).toEqual([]);
});

describe("derived forms of a secret", () => {
  const forms = expectedForms();

  test("twin: without `secrets`, the program prints every form (the probe is real)", async () => {
    const result = await engine.execute({ runtime: "python", env: { TOKEN: SECRET }, code: PRINT_FORMS });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(text(forms, "form"));
    // Each line really differs from its masked form: the value alone determines part of it.
    for (const line of forms) expect(line.form).not.toBe(line.masked);
  });

  test("collected: with `secrets`, every form is masked where the value alone determines it", async () => {
    const result = await engine.execute({ runtime: "python", secrets: { TOKEN: SECRET }, code: PRINT_FORMS });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(text(forms, "masked"));
    for (const line of forms) expect(result.stdout).not.toContain(line.form);
  });

  test("streamed: every form is masked in the events too", async () => {
    const run = await streamRun(engine, { runtime: "python", secrets: { TOKEN: SECRET }, code: PRINT_FORMS });
    expect(run.stdout).toBe(text(forms, "masked"));
    expect(JSON.stringify(run.events)).not.toContain(S.toString("hex"));
  });

  test("forms written three characters at a time, flushed, 10 ms apart: masked collected and streamed", async () => {
    const code = [
      "import base64, os, sys, time",
      "s = os.environ['TOKEN'].encode()",
      "for form in [base64.b64encode(b'x' + s + b'yy').decode(), s.hex(), s.hex().upper()]:",
      "    for i in range(0, len(form), 3):",
      "        sys.stdout.write(form[i:i + 3]); sys.stdout.flush(); time.sleep(0.01)",
      "    print()",
    ].join("\n");
    const b64 = forms.find((l) => l.name === "b64-mid-1")!.masked;
    const expected = `${b64}\n***\n***\n`;
    const result = await engine.execute({ runtime: "python", secrets: { TOKEN: SECRET }, code });
    expect(result.stdout).toBe(expected);
    const run = await streamRun(engine, { runtime: "python", secrets: { TOKEN: SECRET }, code });
    expect(run.stdout).toBe(expected);
    expect(run.stdoutChunks.length).toBeGreaterThan(3);
  });

  test("many forms in a large output, across pipe-read boundaries: all masked in both paths", async () => {
    // ~330 KB in one write: the 64 KiB pipe reads cut through forms at varying offsets.
    const code = [
      "import base64, os, sys",
      "s = os.environ['TOKEN'].encode()",
      "sys.stdout.write(('x' * 1000 + base64.urlsafe_b64encode(s).decode() + '.' + s.hex()) * 300)",
    ].join("\n");
    // The padded form is masked whole, "=" included: it is what base64 of the value alone ends with.
    const expected = `${"x".repeat(1000)}***.***`.repeat(300);
    const result = await engine.execute({ runtime: "python", secrets: { TOKEN: SECRET }, code });
    expect(result.stdout).toBe(expected);
    const run = await streamRun(engine, { runtime: "python", secrets: { TOKEN: SECRET }, code });
    expect(run.stdout).toBe(expected);
  });

  test("still works: text sharing only a start with the value or its forms is not mangled", async () => {
    const code = [
      "import base64, os",
      "s = os.environ['TOKEN'].encode()",
      "print(base64.b64encode(s[:6]).decode(), s[:3].hex(), s[:5].decode(), base64.b64encode(s).decode()[:12])",
      "print('sk-live is a prefix; 0123 456789 are digits; abcdef are letters')",
    ].join("\n");
    const twin = await engine.execute({ runtime: "python", env: { TOKEN: SECRET }, code });
    const result = await engine.execute({ runtime: "python", secrets: { TOKEN: SECRET }, code });
    expect(twin.stdout).toContain(Buffer.from(SECRET.slice(0, 6)).toString("base64"));
    expect(result.stdout).toBe(twin.stdout);
  });
});
