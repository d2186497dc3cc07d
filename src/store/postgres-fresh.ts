// A new, empty PostgreSQL database per call, for the key-store contract tests (never used by
// the server): created through `adminUrl`, named isol8_contract_<random>.
import { randomBytes } from "node:crypto";
import { openPostgresClient } from "./postgres-client";
import type { SqlClient } from "./sql-client";

export async function freshPostgresDatabase(adminUrl: string): Promise<SqlClient> {
  const name = `isol8_contract_${randomBytes(6).toString("hex")}`;
  const admin = new Bun.SQL(adminUrl, { max: 1 });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return openPostgresClient(url.toString());
}
