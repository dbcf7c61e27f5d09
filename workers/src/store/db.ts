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

/** What {@link statement} accepts: a drizzle builder or a `sql` template. */
export type Query = SQL | { toSQL(): { sql: string; params: unknown[] } };

/**
 * A D1 statement from a drizzle builder or a `sql` template. Needed because drizzle 0.45 cannot put
 * a raw `db.all(sql)` with parameters into `db.batch` on D1; such batches go to `d1.batch` directly.
 */
export function statement(db: Db, query: Query): D1PreparedStatement {
  const q = "toSQL" in query ? query.toSQL() : dialect.sqlToQuery(query);
  return db.$client.prepare(q.sql).bind(...q.params);
}

/** One D1 batch (a transaction) of builders and `sql` templates; results are raw rows (snake_case). */
export function runBatch<T = Record<string, unknown>>(db: Db, queries: readonly Query[]): Promise<D1Result<T>[]> {
  return db.$client.batch<T>(queries.map((q) => statement(db, q)));
}

/** Length in characters as SQLite's length() and substr() count them (code points, not UTF-16 units). */
export function sqlLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Characters of JSON per parameter in {@link chunkByJsonSize}. */
export const JSON_RUN_BUDGET = 600_000;

/**
 * Splits items into runs whose JSON stays under `budget` characters, so each run can go into one
 * statement as one JSON parameter (D1 limits a value to 2 MB; 600k characters stay below it even
 * at 3 bytes each). An item larger than the budget gets a run of its own.
 */
export function chunkByJsonSize<T>(items: readonly T[], budget = JSON_RUN_BUDGET): { offset: number; items: T[] }[] {
  const out: { offset: number; items: T[] }[] = [];
  let current: T[] = [];
  let size = 0;
  let offset = 0;
  items.forEach((item, i) => {
    const length = JSON.stringify(item).length + 1;
    if (current.length > 0 && size + length > budget) {
      out.push({ offset, items: current });
      current = [];
      size = 0;
      offset = i;
    }
    current.push(item);
    size += length;
  });
  if (current.length > 0) out.push({ offset, items: current });
  return out;
}
