// The embedded driver: one SQLite file (bun:sqlite, built into Bun), in WAL mode so several
// processes on one machine may share it. Calls are synchronous underneath; the SqlClient
// interface is async only because PostgreSQL's is.
import type { Database as SqliteDatabase } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Row, SqlClient, SqlRunner } from "./sql-client";

/** `$1, $2` → `?1, ?2` (SQLite's numbered parameters), outside string literals. */
export function toSqliteParams(sql: string): string {
  return sql.replace(/('(?:[^']|'')*')|\$(\d+)/g, (whole, literal: string | undefined, n: string | undefined) => (literal !== undefined ? whole : `?${n}`));
}

type Bindable = string | number | bigint | boolean | null | Uint8Array;

// Loaded when a store opens, not when the module is: the library bundle (dist/index.js) also
// loads under Node, where bun:sqlite does not exist (the specifier is kept from the bundler).
const BUN_SQLITE = "bun:sqlite";

/** Opens (creating when missing) the SQLite database at `path` (":memory:" for a private one). Needs Bun. */
export async function openSqliteClient(path: string): Promise<SqlClient> {
  const { Database } = (await import(BUN_SQLITE)) as typeof import("bun:sqlite");
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db: SqliteDatabase = new Database(path, { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  // Another process holding the write lock: wait for it rather than fail at once.
  db.run("PRAGMA busy_timeout = 5000");
  // WAL + NORMAL: a commit survives a crash of the process (not of the machine) without an fsync per statement.
  db.run("PRAGMA synchronous = NORMAL");
  const cache = new Map<string, ReturnType<SqliteDatabase["query"]>>();
  const statement = (sql: string) => {
    let prepared = cache.get(sql);
    if (!prepared) {
      prepared = db.query(toSqliteParams(sql));
      cache.set(sql, prepared);
    }
    return prepared;
  };
  const bind = (params: readonly unknown[]) => params.map((p) => (p === undefined ? null : p)) as Bindable[];
  const runner: SqlRunner = {
    dialect: "sqlite",
    async all(sql, params = []) {
      return statement(sql).all(...bind(params)) as Row[];
    },
    async run(sql, params = []) {
      return statement(sql).run(...bind(params)).changes;
    },
  };
  // One connection: transactions take turns (a transaction's work awaits between statements,
  // and another one started meanwhile must not run inside it).
  let queue: Promise<unknown> = Promise.resolve();
  return {
    ...runner,
    transaction(work) {
      const turn = queue.then(async () => {
        // BEGIN IMMEDIATE takes the write lock at once, so a count-then-insert inside the
        // transaction cannot race another process either.
        db.run("BEGIN IMMEDIATE");
        try {
          const result = await work(runner);
          db.run("COMMIT");
          return result;
        } catch (error) {
          db.run("ROLLBACK");
          throw error;
        }
      });
      queue = turn.catch(() => {});
      return turn;
    },
    async lock() {},
    async close() {
      cache.clear();
      db.close();
    },
  };
}
