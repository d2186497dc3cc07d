import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DockerIsol8 } from "../../src/engine/engine";
import type { EngineContext } from "../../src/engine/contexts/engine-context";
import { testEngine } from "../helpers";
import { ensureDataImage } from "./data-image";

// Rich outputs on the Debian-package data image: matplotlib figures as PNG without any call,
// pandas DataFrames as HTML and text, PIL images as PNG.
let engine: DockerIsol8;
let ctx: EngineContext;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const pngSize = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });

beforeAll(async () => {
  engine = testEngine({ mode: "persistent" });
  await engine.start();
  const image = await ensureDataImage(engine);
  ctx = await engine.createContext({ runtime: "python", image });
}, 1_200_000);

afterAll(async () => {
  await engine?.stop();
});

describe("rich results in a python context (data image)", () => {
  test("plt.plot([1, 2, 3]) returns a PNG without any call", async () => {
    const r = await ctx.run("import matplotlib.pyplot as plt; plt.plot([1, 2, 3])");
    expect(r.status).toBe("ok");
    const figures = r.results.filter((b) => b["image/png"]);
    expect(figures).toHaveLength(1);
    const png = Buffer.from(figures[0]!["image/png"]!, "base64");
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });

  test("a figure's PNG header decodes to the figure's size", async () => {
    const r = await ctx.run("fig = plt.figure(figsize=(4, 3), dpi=50)\nax = fig.add_subplot()\nax.plot([3, 1, 2])\nNone");
    const png = Buffer.from(r.results.find((b) => b["image/png"])!["image/png"]!, "base64");
    expect(pngSize(png)).toEqual({ width: 200, height: 150 });
  });

  test("a figure shown by display() comes back once, in order", async () => {
    const r = await ctx.run("fig, ax = plt.subplots()\nax.plot([1, 2])\nprint('before')\ndisplay(fig)\ndisplay('after')");
    expect(r.results.map((b) => (b["image/png"] ? "png" : b["text/plain"]))).toEqual(["png", "'after'"]);
  });

  test("a DataFrame returns an HTML table and text", async () => {
    const r = await ctx.run("import pandas as pd\npd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})");
    expect(r.results).toHaveLength(1);
    expect(r.results[0]!["text/html"]).toContain("<table");
    expect(r.results[0]!["text/plain"]).toContain("a  b");
  });

  test("a PIL image returns a PNG of its size", async () => {
    const r = await ctx.run("from PIL import Image\nImage.new('RGB', (7, 5), 'red')");
    const png = Buffer.from(r.results[0]!["image/png"]!, "base64");
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(pngSize(png)).toEqual({ width: 7, height: 5 });
  });

  test("numpy values come back as text", async () => {
    const r = await ctx.run("import numpy as np\nnp.arange(3).sum()");
    expect(r.results[0]!["text/plain"]).toBe("3");
  });
});
