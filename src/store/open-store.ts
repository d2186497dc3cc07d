// Opens the key store a server's configuration names: PostgreSQL when server.database.url is
// set (several instances share it), else the embedded SQLite file (server.database.path, by
// default keys.db in the server's data directory).
import { createKeyStore, type KeyStore } from "./key-store";
import { openPostgresClient } from "./postgres-client";
import { openSqliteClient } from "./sqlite-client";

export type StoreLocation = { url: string } | { path: string };

export async function openKeyStore(location: StoreLocation): Promise<KeyStore> {
  const client = "url" in location ? openPostgresClient(location.url) : await openSqliteClient(location.path);
  try {
    return await createKeyStore(client);
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
}

/** Where a location points, for logs: the database URL without its password, or the file. */
export function describeStore(location: StoreLocation): string {
  if ("path" in location) return `SQLite ${location.path}`;
  try {
    const url = new URL(location.url);
    if (url.password) url.password = "***";
    return `PostgreSQL ${url.toString()}`;
  } catch {
    return "PostgreSQL (unparsable URL)";
  }
}
