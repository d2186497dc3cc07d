import type { DockerClient } from "../docker";
import { isol8Labels } from "../labels";
import { createDockerDemuxer } from "../supervisor/protocol";

/**
 * Runs one command in a throwaway container of an image (no network, read-only root, as
 * nobody) and returns its stdout. Used at setup to read facts from the image.
 */
export async function queryImage(docker: DockerClient, image: string, argv: readonly string[]): Promise<string> {
  const id = await docker.createContainer({
    Image: image,
    Entrypoint: [...argv],
    Cmd: [],
    User: "65534:65534",
    Labels: isol8Labels("sandbox"),
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: "none",
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges:true"],
      Tmpfs: { "/sandbox": "rw,size=16m,uid=65534,gid=65534", "/tmp": "rw,noexec,size=16m" },
      LogConfig: { Type: "none", Config: {} },
    },
  });
  try {
    const stream = await docker.attach(id);
    const out: Buffer[] = [];
    const done = new Promise<void>((resolve) => {
      stream.on("data", createDockerDemuxer((chunk) => out.push(chunk), () => {}));
      stream.on("end", resolve);
      stream.on("close", resolve);
    });
    await docker.start(id);
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 60_000).unref())]);
    return Buffer.concat(out).toString("utf8");
  } finally {
    await docker.remove(id);
  }
}

/** Host names from lines holding URLs or bare host names (blank lines and junk dropped). */
export function hostsFrom(text: string): string[] {
  const hosts = new Set<string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    try {
      hosts.add(new URL(line.includes("://") ? line : `https://${line}`).hostname.toLowerCase());
    } catch {}
  }
  return [...hosts].filter((h) => /^[a-z0-9.-]+$/.test(h) && h.includes("."));
}
