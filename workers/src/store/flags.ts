/**
 * IMAP flag sets as stored in `messages.flags`: a JSON array in one stable order — the system
 * flags \Answered \Flagged \Deleted \Seen \Draft (in that order, canonical spelling), then
 * keywords in the order they were first added.
 *
 * Callers may rely on: `\Recent` is never stored (it is per-session state, RFC 3501 §2.3.2);
 * flags are deduplicated case-insensitively (system flags and keywords alike, since clients
 * differ in the case they send); applying the same operation twice gives the same set, which is
 * what makes a retried STORE safe. Because system flags are stored in canonical spelling, SQL
 * may test one by exact comparison ({@link hasFlag}).
 */
import { sql, type SQL, type SQLWrapper } from "drizzle-orm";

export const SYSTEM_FLAGS = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"] as const;
const SYSTEM_BY_LOWER = new Map<string, string>(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

export type FlagMode = "add" | "remove" | "replace";

/** A backslash flag we do not know cannot be stored; returns the first such flag, if any. */
export function unknownSystemFlag(flags: readonly string[]): string | undefined {
  return flags.find((f) => f.startsWith("\\") && f.toLowerCase() !== "\\recent" && !SYSTEM_BY_LOWER.has(f.toLowerCase()));
}

export function normalizeFlags(flags: readonly string[]): string[] {
  const system = new Set<string>();
  const keywords: string[] = [];
  const seen = new Set<string>();
  for (const flag of flags) {
    const lower = flag.toLowerCase();
    const sys = SYSTEM_BY_LOWER.get(lower);
    if (sys) system.add(sys);
    else if (!flag.startsWith("\\") && !seen.has(lower)) {
      seen.add(lower);
      keywords.push(flag);
    }
  }
  return [...SYSTEM_FLAGS.filter((f) => system.has(f)), ...keywords];
}

export function applyFlags(current: readonly string[], mode: FlagMode, flags: readonly string[]): string[] {
  switch (mode) {
    case "replace":
      return normalizeFlags(flags);
    case "add":
      return normalizeFlags([...current, ...flags]);
    case "remove": {
      const gone = new Set(flags.map((f) => f.toLowerCase()));
      return normalizeFlags(current.filter((f) => !gone.has(f.toLowerCase())));
    }
  }
}

export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f, i) => f === b[i]);
}

/** SQL: whether a stored flags column holds this system flag (canonical spelling, e.g. "\\Deleted"). */
export function hasFlag(column: SQLWrapper, flag: (typeof SYSTEM_FLAGS)[number]): SQL {
  return sql`EXISTS (SELECT 1 FROM json_each(${column}) WHERE value = ${flag})`;
}
