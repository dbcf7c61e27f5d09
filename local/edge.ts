/**
 * Runs the edge Worker locally, in workerd through Miniflare, with local D1 and R2.
 *
 * Used by `npm start` and by the tests, so both exercise the same bundle and the same
 * migrations. Callers may rely on: migrations in `migrations/` are applied (once each,
 * recorded in `d1_migrations` like `wrangler d1 migrations apply`) before the returned
 * promise resolves; with `persistDir` the state survives a stop/start; `stop()` frees the port.
 */
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Must not be later than the bundled workerd's own date (see wrangler.toml). */
export const COMPATIBILITY_DATE = "2026-10-01";

export interface EdgeOptions {
  /** Folder for D1/R2 state; omit for in-memory state that vanishes on stop. */
  persistDir?: string;
  /** 0 (default) picks a free port; give the old port to restart an edge where the relay expects it. */
  port?: number;
  adminToken: string;
  relayKey: string;
  /** Lets tests arm failure points through the admin API. Never on in production. */
  allowFaultInjection?: boolean;
}

export interface RunningEdge {
  url: string;
  port: number;
  stop(): Promise<void>;
}

let bundleCache: Promise<string> | undefined;

/** Bundles the worker the way wrangler would (ESM, workerd conditions); cached per process. */
export function bundleWorker(): Promise<string> {
  bundleCache ??= build({
    entryPoints: [`${ROOT}workers/src/index.ts`],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    write: false,
    logLevel: "silent",
  }).then((r) => r.outputFiles[0]!.text);
  return bundleCache;
}

export async function startEdge(options: EdgeOptions): Promise<RunningEdge> {
  const script = await bundleWorker();
  const mf = new Miniflare(convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: options.port ?? 0,
    cf: false,
    ...(options.persistDir ? { resourcePersistencePath: options.persistDir } : {}),
    workers: [
      {
        name: "edgemail",
        modules: true,
        script,
        compatibilityDate: COMPATIBILITY_DATE,
        d1Databases: { DB: "edgemail" },
        r2Buckets: { MAIL: "edgemail-mail" },
        bindings: {
          ADMIN_TOKEN: options.adminToken,
          RELAY_KEY: options.relayKey,
          ...(options.allowFaultInjection ? { ALLOW_FAULT_INJECTION: "1" } : {}),
        },
      },
    ],
  }));
  try {
    const url = await mf.ready;
    await applyMigrations(await mf.getD1Database("DB"));
    return {
      url: url.origin,
      port: Number(url.port),
      stop: () => mf.dispose(),
    };
  } catch (err) {
    await mf.dispose();
    throw err;
  }
}

interface D1Like {
  prepare(sql: string): { bind(...v: unknown[]): unknown; all(): Promise<{ results: unknown[] }> };
  batch(statements: unknown[]): Promise<unknown>;
}

/** Applies every not-yet-applied `migrations/*.sql`, each in one batch (a transaction). */
export async function applyMigrations(db: D1Like): Promise<string[]> {
  await db.batch([
    db.prepare(
      "CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)",
    ),
  ]);
  const applied = new Set(
    ((await db.prepare("SELECT name FROM d1_migrations").all()).results as { name: string }[]).map((r) => r.name),
  );
  const dir = `${ROOT}migrations/`;
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const done: string[] = [];
  for (const file of files) {
    if (applied.has(file)) continue;
    const sql = await readFile(dir + file, "utf8");
    const statements = sql
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      // A chunk of only comments (drizzle's custom-migration header) is no statement for D1.
      .filter((s) => s.replace(/^\s*--.*$/gm, "").trim().length > 0);
    await db.batch([
      ...statements.map((s) => db.prepare(s)),
      db.prepare("INSERT INTO d1_migrations (name) VALUES (?)").bind(file),
    ]);
    done.push(file);
  }
  return done;
}
