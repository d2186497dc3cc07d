import { describe, expect, test } from "bun:test";
import { RequestError } from "../../errors";
import { createRuntimeRegistry } from "../../runtimes/registry";
import { aptInstallStep, validateAptPackages } from "./apt-packages";
import { bakedDockerfile, bakedTag } from "./baked-images";
import { imageNames } from "./image-names";

describe("validateAptPackages", () => {
  test.each([
    ["python3-numpy", true],
    ["libstdc++6", true],
    ["g++", true],
    ["python3.11", true],
    ["libc6:amd64", true],
    ["a", false],
    ["-o", false],
    ["--allow-unauthenticated", false],
    ["Numpy", false],
    ["numpy=1.0", false],
    ["numpy;rm", false],
    ["pkg name", false],
    ["./local.deb", false],
    ["http://x/y.deb", false],
    ["$(id)", false],
    ["", false],
  ])("%p valid: %p", (name, valid) => {
    if (valid) expect(validateAptPackages([name])).toEqual([name]);
    else expect(() => validateAptPackages([name])).toThrow(RequestError);
  });

  test("sorted and de-duplicated", () => {
    expect(validateAptPackages(["python3-pil", "python3-numpy", "python3-pil"])).toEqual(["python3-numpy", "python3-pil"]);
  });
});

describe("aptInstallStep", () => {
  test("is exec-form: names are arguments of a fixed script, never shell text", () => {
    const step = aptInstallStep(["python3-numpy", "python3-pil"]);
    expect(step.startsWith("RUN [")).toBe(true);
    const argv = JSON.parse(step.slice(4)) as string[];
    expect(argv.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(argv.slice(3)).toEqual(["isol8-apt", "python3-numpy", "python3-pil"]);
    expect(argv[2]).not.toContain("python3-numpy");
    expect(argv[2]).toContain('-- "$@"');
    // set-uid bits removed again, passwd/group kept as links
    expect(argv[2]).toContain("-perm /6000 -exec chmod a-s");
    expect(argv[2]).toContain("/etc/$f");
  });
});

describe("baked images with Debian packages", () => {
  const names = imageNames("isol8");
  const python = createRuntimeRegistry().get("python");

  test("the Dockerfile installs Debian packages before the runtime's", () => {
    const file = bakedDockerfile(names, python, ["requests"], ["python3-numpy"]);
    expect(file.indexOf("isol8-apt")).toBeGreaterThan(0);
    expect(file.indexOf("isol8-apt")).toBeLessThan(file.indexOf("pip"));
  });

  test("Debian packages alone make an image", () => {
    const file = bakedDockerfile(names, python, [], ["python3-numpy"]);
    expect(file).toContain("isol8-apt");
    expect(file).not.toContain("pip");
  });

  test("the tag hashes the Debian packages; without them it is the tag it always was", () => {
    const plain = bakedTag(names, python, ["requests"], "sha256:1");
    expect(bakedTag(names, python, ["requests"], "sha256:1", [])).toBe(plain);
    expect(bakedTag(names, python, ["requests"], "sha256:1", ["python3-numpy"])).not.toBe(plain);
    expect(bakedTag(names, python, [], "sha256:1", ["python3-numpy"])).not.toBe(bakedTag(names, python, [], "sha256:1", ["python3-pil"]));
  });
});
