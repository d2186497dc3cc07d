// Images with packages baked in: built FROM the runtime image, found by a run whose
// packages they hold, which then installs nothing.
import { afterAll, describe, expect, test } from "bun:test";
import { createDockerClient } from "../../src/engine/docker";
import { bakeImage, findBakedImage, validatePackages } from "../../src/engine/images/baked-images";
import { SUPERVISOR_HASH } from "../../src/engine/images/image-manager";
import { RequestError } from "../../src/errors";
import { node } from "../../src/runtimes/node";
import { bash } from "../../src/runtimes/bash";
import { deno } from "../../src/runtimes/deno";
import { TEST_IMAGES, testEngine } from "../helpers";

const docker = createDockerClient();
const TAG = `isol8-test-baked:${process.pid}`;
const logs: string[] = [];
const engine = testEngine({ pool: false, log: (line) => logs.push(line) });
let baked: string | undefined;
let bakedDeno: string | undefined;

afterAll(async () => {
  await engine.stop();
  for (const ref of [TAG, baked, bakedDeno].filter(Boolean) as string[]) await docker.removeImage(ref);
}, 60_000);

describe("baked images", () => {
  test("isol8 build: node packages baked FROM isol8:node, named and reused when up to date", async () => {
    const first = await bakeImage(docker, TEST_IMAGES, node, ["is-number"], { tag: TAG });
    expect(first.ref).toBe(TAG);
    const again = await bakeImage(docker, TEST_IMAGES, node, ["is-number"]);
    expect(again.built).toBe(false);
    baked = again.ref;
    expect(baked).toMatch(new RegExp(`^${TEST_IMAGES.repository}-deps:node-[0-9a-f]{16}$`));
    const found = await findBakedImage(docker, TEST_IMAGES, "node", ["is-number"], SUPERVISOR_HASH);
    expect(found?.packages).toEqual(["is-number"]);
  }, 300_000);

  test("a run whose packages are baked uses that image and installs nothing (no network needed)", async () => {
    const result = await engine.execute({
      runtime: "node",
      code: "import n from 'is-number'; console.log(n(5), process.env.HTTP_PROXY ?? 'no proxy')",
      installPackages: ["is-number"],
      logNetwork: true,
    });
    expect(result.stdout).toBe("true http://127.0.0.1:8118\n");
    expect(result.networkLogs).toEqual([]); // nothing was fetched
    expect(logs).toContain(`using ${baked}: it holds is-number`);
  }, 120_000);

  test("deno (setup --deno): a baked npm package is imported by its bare name, with no registry at run time", async () => {
    const made = await bakeImage(docker, TEST_IMAGES, deno, ["is-number"]);
    bakedDeno = made.ref;
    const found = await findBakedImage(docker, TEST_IMAGES, "deno", ["npm:is-number"], SUPERVISOR_HASH);
    expect(found?.ref).toBe(bakedDeno);
    const result = await engine.execute({
      runtime: "deno",
      code: 'import isNumber from "is-number"; console.log(isNumber(5), isNumber("x"))',
      installPackages: ["is-number"],
      logNetwork: true,
    });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("true false\n");
    expect(result.networkLogs).toEqual([]);
    expect(logs).toContain(`using ${bakedDeno}: it holds npm:is-number`);
  }, 300_000);

  test("package names are data: options, URLs and shell syntax are refused; bash cannot bake", () => {
    for (const bad of ["--registry=x", "https://x/y.tgz", "a;rm -rf /", "$(id)", "../x"]) {
      expect(() => validatePackages(node, [bad])).toThrow(RequestError);
    }
    expect(() => validatePackages(bash, ["jq"])).toThrow(/not supported for bash/);
  });
});
