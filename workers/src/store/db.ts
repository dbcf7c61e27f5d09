/**
 * The drizzle handle every store function takes. Store functions receive it (and the R2 bucket)
 * as arguments instead of reading bindings, so any entry point (HTTP route, `email()` handler,
 * import job) can call them.
 */
import type { SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import * as schema from "./schema.ts";

const dialect = new SQLiteAsyncDialect();

export type Db = ReturnType<typeof createDb>;

export function createDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

/** D1 allows at most 100 bound parameters per statement; IN lists are passed as one JSON parameter instead. */
export function jsonList(values: readonly (number | string)[]): string {
  return JSON.stringify(values);
}

/**
 * A D1 statement from a drizzle builder or a `sql` template. Needed because drizzle 0.45 cannot put
 * a raw `db.all(sql)` with parameters into `db.batch` on D1; such batches go to `d1.batch` directly.
 */
export function statement(db: Db, query: SQL | { toSQL(): { sql: string; params: unknown[] } }): D1PreparedStatement {
  const q = "toSQL" in query ? query.toSQL() : dialect.sqlToQuery(query);
  return db.$client.prepare(q.sql).bind(...q.params);
}
