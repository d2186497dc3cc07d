// The shared driver: PostgreSQL through Bun's built-in SQL client (a connection pool), for
// several `isol8 serve` instances that share keys, quotas and the session directory.
import type { SQL } from "bun";
import type { Row, SqlClient, SqlRunner } from "./sql-client";

type Queryable = Pick<SQL, "unsafe">;

function runnerOf(sql: Queryable): SqlRunner {
  return {
    dialect: "postgres",
    async all(text, params = []) {
      return [...((await sql.unsafe(text, [...params])) as Row[])];
    },
    async run(text, params = []) {
      const result = (await sql.unsafe(text, [...params])) as unknown as { count?: number | null };
      return result.count ?? 0;
    },
  };
}

/** A 64-bit advisory lock id from a name (FNV-1a, folded into PostgreSQL's signed bigint). */
export function advisoryLockId(name: string): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(name)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return BigInt.asIntN(64, hash);
}

/** Bun's SQL client, from the global Bun object (the library bundle also loads under Node, without it). */
function bunSql(): typeof SQL {
  const bun = (globalThis as { Bun?: { SQL: typeof SQL } }).Bun;
  if (!bun) throw new Error("the PostgreSQL key store needs Bun (isol8 serve, or createServer under Bun)");
  return bun.SQL;
}

/** Connects to PostgreSQL at `url` (postgres://user:password@host:port/database). */
export function openPostgresClient(url: string, options: { max?: number } = {}): SqlClient {
  const sql = new (bunSql())(url, { max: options.max ?? 10, idleTimeout: 30, connectionTimeout: 10 });
  return {
    ...runnerOf(sql),
    async transaction(work) {
      return (await sql.begin((tx) => work(runnerOf(tx)))) as Awaited<ReturnType<typeof work>>;
    },
    async lock(tx, name) {
      await tx.all("SELECT pg_advisory_xact_lock($1)", [advisoryLockId(name).toString()]);
    },
    async close() {
      await sql.close({ timeout: 1 });
    },
  };
}
