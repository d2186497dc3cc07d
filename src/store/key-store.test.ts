// The key-store contract against real SQLite files (always) and against PostgreSQL when
// ISOL8_TEST_DATABASE_URL names a server this test may create databases on.
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyStoreContract } from "./key-store.contract";
import { freshPostgresDatabase } from "./postgres-fresh";
import { openSqliteClient } from "./sqlite-client";

const dir = mkdtempSync(join(tmpdir(), "isol8-tenants-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
keyStoreContract("SQLite", () => openSqliteClient(join(dir, `store-${++n}`, "keys.db")));

const pgUrl = process.env.ISOL8_TEST_DATABASE_URL;
if (pgUrl) keyStoreContract("PostgreSQL", () => freshPostgresDatabase(pgUrl));
