import { createKeysClient } from "../../client/keys-client";
import { UsageError } from "../../errors";
import type { IssuedKey, KeyInfo, Usage } from "../../protocol/tenancy";
import { defineIsol8Command } from "../command";
import { KEY_POLICY_REPEATABLE, keyFromFlags, keyPolicyArgs } from "../keys/key-from-flags";
import { standardError, standardOutput } from "../std-streams";

const ACTIONS = ["create", "list", "revoke", "rotate", "usage"] as const;
type Action = (typeof ACTIONS)[number];

const keysArgs = {
  host: { type: "string", description: "The server (default: $ISOL8_HOST, else http://127.0.0.1:3000)" },
  key: { type: "string", description: "An admin key of the server: its --key or ISOL8_API_KEY (default: $ISOL8_API_KEY); usage without an id takes any key" },
  json: { type: "boolean", description: "Print the server's answer as JSON" },
  ...keyPolicyArgs,
} as const;

const line = (info: KeyInfo) =>
  [
    info.id,
    info.name,
    info.revokedAt ? `revoked ${info.revokedAt}` : "active",
    `created ${info.createdAt}`,
    Object.keys(info.quotas).length ? `quotas ${JSON.stringify(info.quotas)}` : "",
    Object.keys(info.policy).length ? `policy ${JSON.stringify(info.policy)}` : "",
  ]
    .filter(Boolean)
    .join("  ");

const usageText = (usage: Usage) => {
  const q = usage.quotas;
  const of = (n: number, quota: number | undefined) => (quota === undefined ? `${n}` : `${n} of ${quota}`);
  return [
    `${usage.principal}${usage.admin ? " (admin)" : ""}`,
    `running executions: ${of(usage.usage.concurrent, q.maxConcurrent)}`,
    `sessions: ${of(usage.usage.sessions, q.maxSessions)}`,
    `CPU seconds on ${usage.day} (UTC): ${of(Math.round(usage.usage.cpuSeconds * 10) / 10, q.cpuSecondsPerDay)}`,
    `executions on ${usage.day}: ${usage.usage.executions}`,
    `requests left this minute: ${usage.usage.requestsLeft === null ? "no rate quota" : `${usage.usage.requestsLeft} of ${q.requestsPerMinute}`}`,
  ].join("\n");
};

/** The key printed once: on stdout alone (for scripts), what it is on stderr. */
function printIssued(issued: IssuedKey, json: boolean, what: string) {
  if (json) return void standardOutput().write(`${JSON.stringify(issued)}\n`);
  standardError().write(`isol8: ${what} key ${issued.info.id} ("${issued.info.name}"); it is shown this once, the server keeps only its hash\n`);
  standardOutput().write(`${issued.key}\n`);
}

export default defineIsol8Command({
  meta: {
    name: "keys",
    description: "Manage a server's API keys: keys create --name <n> [quotas, policy] | list | revoke <id> | rotate <id> | usage [<id>]",
  },
  args: keysArgs,
  repeatable: KEY_POLICY_REPEATABLE,
  config: false,
  async run({ flags, positionals }) {
    const [action, id, ...extra] = positionals;
    if (!ACTIONS.includes(action as Action)) {
      throw new UsageError(`Cannot run "isol8 keys ${action ?? ""}": expected one of ${ACTIONS.join(", ")}`, "see isol8 keys --help");
    }
    const needsId = action === "revoke" || action === "rotate";
    if ((needsId && id === undefined) || extra.length || (!needsId && action !== "usage" && id !== undefined)) {
      throw new UsageError(`Cannot run "isol8 keys ${action}": ${needsId ? "name one key id" : "unexpected argument"}`, "see isol8 keys --help");
    }
    const apiKey = flags.key ?? process.env.ISOL8_API_KEY;
    if (!apiKey) throw new UsageError(`Cannot run "isol8 keys ${action}": no key`, "pass the server's admin key with --key, or set ISOL8_API_KEY");
    const host = flags.host ?? process.env.ISOL8_HOST ?? "http://127.0.0.1:3000";
    const client = createKeysClient({ host, apiKey });
    const json = Boolean(flags.json);
    const print = (value: unknown, text: string) => void standardOutput().write(`${json ? JSON.stringify(value) : text}\n`);
    switch (action as Action) {
      case "create":
        printIssued(await client.create(keyFromFlags(flags)), json, "created");
        return 0;
      case "rotate":
        printIssued(await client.rotate(id!), json, "rotated");
        return 0;
      case "list": {
        const keys = await client.list();
        print({ keys }, keys.length ? keys.map(line).join("\n") : "no keys");
        return 0;
      }
      case "revoke": {
        const info = await client.revoke(id!);
        print(info, `revoked ${info.id} ("${info.name}")`);
        return 0;
      }
      case "usage": {
        const usage = await client.usage(id);
        print(usage, usageText(usage));
        return 0;
      }
    }
  },
});
