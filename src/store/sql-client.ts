// The little a key store needs of a database, so that one store (key-store.ts) runs on both
// drivers: embedded SQLite (sqlite-client.ts, bun:sqlite) and PostgreSQL (postgres-client.ts,
// Bun's SQL client). Statements are written once, with PostgreSQL's `$1, $2, ...` placeholders
// (the SQLite client rewrites them), in the SQL both dialects share; where they differ, the
// client's `dialect` picks the text.

/** One row as the driver returns it: column name → value (numbers may come as strings or bigints). */
export type Row = Record<string, unknown>;

export type Dialect = "sqlite" | "postgres";

/** Statements on one connection (inside a transaction, or the client itself). */
export interface SqlRunner {
  readonly dialect: Dialect;
  /** Every row a statement returns. */
  all(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a statement; the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

export interface SqlClient extends SqlRunner {
  /**
   * Runs `work` in one transaction that holds the write lock from its start (SQLite: BEGIN
   * IMMEDIATE; PostgreSQL: the rows or advisory lock `work` takes), committed when it returns.
   */
  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /**
   * Takes a lock named by `name` until the transaction ends (PostgreSQL: an advisory lock;
   * SQLite: a no-op, the transaction already holds the database's write lock).
   */
  lock(tx: SqlRunner, name: string): Promise<void>;
  close(): Promise<void>;
}

/** A number column, whatever the driver made of it (PostgreSQL bigint and numeric come as strings). */
export function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : Number(value);
}
