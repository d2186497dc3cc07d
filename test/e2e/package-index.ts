// A tiny package index for servers under test (not a test file itself): it serves one
// wheel, tinypkg, and answers 404 for every other name. The python image's own registry host
// (read from its label) is pointed at it through the server's network.hosts, so an install
// reaches this index and nothing else.
//
// SAFETY: the index listens on 127.0.0.1; the registry host's name is only ever resolved by
// the server's static host table, so nothing is looked up and nothing leaves this machine.
import { createDockerClient } from "../../src/engine/docker";
import { LABEL_REGISTRY_HOSTS } from "../../src/engine/labels";
import { type HttpSink, startHttpSink } from "../docker/network-sinks";
import { buildTinyWheel, simpleIndexPage } from "../docker/tiny-wheel";
import { TEST_IMAGES } from "../helpers";

export interface PackageIndex {
  index: HttpSink;
  /** The python image's first registry host, pointed at the index. */
  registryHost: string;
  /** What tinypkg's module prints. */
  value: string;
  /** The server config's `network` section that sends the registry host to the index. */
  network: { hosts: Record<string, string>; allowedCidrs: string[]; allowedPorts: number[] };
  /** The request `env` that makes pip use the index (plain HTTP needs the host marked trusted). */
  pipEnv: Record<string, string>;
  /** The index's record, as `path` per request. */
  paths(): string[];
}

export async function startPackageIndex(): Promise<PackageIndex> {
  const value = "tinypkg from the e2e index";
  const wheel = buildTinyWheel(value);
  const index = await startHttpSink("127.0.0.1", (req, res) => {
    if (req.url === "/simple/tinypkg/") {
      res.setHeader("content-type", "text/html");
      res.end(simpleIndexPage(wheel, "/files"));
    } else if (req.url === `/files/${wheel.fileName}`) {
      res.setHeader("content-type", "application/octet-stream");
      res.end(wheel.bytes);
    } else {
      res.statusCode = 404;
      res.end("not here");
    }
    return true;
  });
  const image = await createDockerClient().inspectImage(TEST_IMAGES.runtime("python"));
  const registryHost = (image?.labels[LABEL_REGISTRY_HOSTS] ?? "").split(",").filter(Boolean)[0];
  if (!registryHost) throw new Error(`${TEST_IMAGES.runtime("python")} has no ${LABEL_REGISTRY_HOSTS} label`);
  return {
    index,
    registryHost,
    value,
    network: { hosts: { [registryHost]: "127.0.0.1" }, allowedCidrs: ["127.0.0.1/32"], allowedPorts: [index.port] },
    pipEnv: {
      PIP_INDEX_URL: `http://${registryHost}:${index.port}/simple`,
      PIP_TRUSTED_HOST: registryHost,
      PIP_DISABLE_PIP_VERSION_CHECK: "1",
      PIP_RETRIES: "0",
    },
    paths: () => index.requests.map((request) => request.url),
  };
}
