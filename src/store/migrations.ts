// The key store's schema, as versioned migrations: each is applied once, in order, in one
// transaction that also records its version; a store opens by migrating to the latest version
// (concurrent instances take the migration lock in turn: the second finds nothing to do).
// Append a migration for a change; never edit one that has shipped.
import type { Dialect, SqlClient, SqlRunner } from "./sql-client";
import { num } from "./sql-client";

export interface Migration {
  version: number;
  description: string;
  /** Statements, run in order; a function of the dialect where the two differ. */
  statements: readonly string[] | ((dialect: Dialect) => readonly string[]);
}

// Times are milliseconds since the epoch (BIGINT); policies and quotas are JSON text.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "API keys: public id, name, SHA-256 of the key, policy, quotas, lifecycle times",
    statements: [
      `CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hash TEXT NOT NULL,
        policy TEXT NOT NULL,
        quotas TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        rotated_at BIGINT,
        revoked_at BIGINT
      )`,
    ],
  },
  {
    version: 2,
    description: "quota state: rate buckets, usage per key and UTC day",
    statements: [
      "CREATE TABLE rate_buckets (key_id TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, updated_at BIGINT NOT NULL)",
      `CREATE TABLE daily_usage (
        key_id TEXT NOT NULL,
        day TEXT NOT NULL,
        cpu_ms BIGINT NOT NULL DEFAULT 0,
        executions BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (key_id, day)
      )`,
    ],
  },
  {
    version: 3,
    description: "instances (heartbeats), execution leases, the session directory",
    statements: [
      "CREATE TABLE instances (id TEXT PRIMARY KEY, url TEXT, seen_at BIGINT NOT NULL)",
      "CREATE TABLE leases (id TEXT PRIMARY KEY, key_id TEXT NOT NULL, instance_id TEXT NOT NULL, started_at BIGINT NOT NULL)",
      "CREATE INDEX leases_by_key ON leases (key_id)",
      `CREATE TABLE sessions (
        owner TEXT NOT NULL,
        id TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (owner, id)
      )`,
      "CREATE INDEX sessions_by_instance ON sessions (instance_id)",
    ],
  },
  {
    version: 4,
    description: "one round trip per quota check: the rate bucket's verdict kept in its row; PostgreSQL: the lease taken by a function",
    statements: (dialect) => [
      "ALTER TABLE rate_buckets ADD COLUMN allowed INTEGER NOT NULL DEFAULT 1",
      // SQLite serialises writers (BEGIN IMMEDIATE): its lease is taken in a transaction by the
      // store. On PostgreSQL the function takes the key's advisory lock, then counts and inserts,
      // each statement seeing what committed before the lock was granted.
      ...(dialect === "postgres"
        ? [
            `CREATE FUNCTION isol8_acquire_lease(p_id TEXT, p_key TEXT, p_instance TEXT, p_max BIGINT, p_live BIGINT, p_now BIGINT) RETURNS BOOLEAN AS $fn$
            BEGIN
              PERFORM pg_advisory_xact_lock(hashtextextended('lease:' || p_key, 0));
              IF p_max IS NOT NULL AND (SELECT COUNT(*) FROM leases l JOIN instances i ON i.id = l.instance_id WHERE l.key_id = p_key AND i.seen_at >= p_live) >= p_max THEN
                RETURN FALSE;
              END IF;
              INSERT INTO leases (id, key_id, instance_id, started_at) VALUES (p_id, p_key, p_instance, p_now);
              RETURN TRUE;
            END
            $fn$ LANGUAGE plpgsql VOLATILE`,
          ]
        : []),
    ],
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

const SCHEMA_TABLE = "CREATE TABLE IF NOT EXISTS isol8_schema (version INTEGER NOT NULL, applied_at BIGINT NOT NULL)";

async function currentVersion(tx: SqlRunner): Promise<number> {
  const rows = await tx.all("SELECT MAX(version) AS version FROM isol8_schema");
  return num(rows[0]?.version);
}

/**
 * Brings the database to `target` (default: the latest version) and returns the versions
 * applied (none when it was there already). A database newer than this build is refused.
 */
export async function migrate(client: SqlClient, target = LATEST_VERSION, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return client.transaction(async (tx) => {
    await client.lock(tx, "isol8-schema-migration");
    await tx.run(SCHEMA_TABLE);
    const from = await currentVersion(tx);
    const newest = migrations[migrations.length - 1]?.version ?? 0;
    if (from > newest) {
      throw new Error(`Cannot use the key store: its schema is at version ${from}, this isol8 knows up to ${newest} (a newer isol8 wrote it)`);
    }
    const applied: number[] = [];
    for (const migration of migrations) {
      if (migration.version <= from || migration.version > target) continue;
      const statements = typeof migration.statements === "function" ? migration.statements(client.dialect) : migration.statements;
      for (const statement of statements) await tx.run(statement);
      await tx.run("INSERT INTO isol8_schema (version, applied_at) VALUES ($1, $2)", [migration.version, Date.now()]);
      applied.push(migration.version);
    }
    return applied;
  });
}

/** The version a database is at (0: empty). */
export async function schemaVersion(client: SqlClient): Promise<number> {
  return client.transaction(async (tx) => {
    await client.lock(tx, "isol8-schema-migration");
    await tx.run(SCHEMA_TABLE);
    return currentVersion(tx);
  });
}
