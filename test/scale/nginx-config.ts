// The nginx configuration of docs/scale-out.md, as the tests run it: the block from the doc,
// with its example ports replaced, inside the few lines a standalone nginx needs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers";

/** The ```nginx block of docs/scale-out.md. */
export function documentedNginxBlock(): string {
  const doc = readFileSync(join(ROOT, "docs", "scale-out.md"), "utf8");
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/scale-out.md has no ```nginx block");
  return block;
}

/** A whole nginx.conf: the documented block for these instances and this port, its files under `dir`. */
export function nginxConfig(instancePorts: [number, number], listenPort: number, dir: string): string {
  const block = documentedNginxBlock()
    .replace("127.0.0.1:3001", `127.0.0.1:${instancePorts[0]}`)
    .replace("127.0.0.1:3002", `127.0.0.1:${instancePorts[1]}`)
    .replace("listen 127.0.0.1:8080;", `listen 127.0.0.1:${listenPort};`);
  return [
    `pid ${dir}/nginx.pid;`,
    "worker_processes 1;",
    "events { worker_connections 256; }",
    "http {",
    "  access_log off;",
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `  ${kind}_temp_path ${dir}/${kind}_temp;`),
    block,
    "}",
    "",
  ].join("\n");
}
