/**
 * Argument parsing shared by the `edgemail` commands: options (node:util parseArgs, strict),
 * positionals, sizes, durations, dates and lists.
 *
 * Callers may rely on: every malformed argument throws a usage CliError (exit 2) whose message
 * names the argument and what would have been accepted (the dispatcher adds the command's usage
 * line); nothing here guesses (`5x` is not a size, `7` is not a duration).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { usage } from "./admin-client.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** A command's options and positionals; `max` positionals at most (Infinity for lists). */
export function parseCommand<O extends Options>(args: string[], options: O, positionals: { min: number; max: number; names: string }) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs's own text for an unknown option runs to three lines of advice about `--`.
    const unknown = /^Unknown option '([^']+)'/.exec((err as Error).message);
    throw usage(unknown ? `unknown option "${unknown[1]}"` : (err as Error).message);
  }
  const n = parsed.positionals.length;
  if (n < positionals.min) throw usage(`missing ${positionals.names}`);
  if (n > positionals.max) throw usage(`unexpected argument "${parsed.positionals[positionals.max]}"`);
  return parsed;
}

const SIZE_UNITS: Record<string, number> = { "": 1, B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/**
 * `500M`, `2G`, `1.5G`, `10240`: octets, 1024-based like `du -h` prints them (`K`, `KB` and `KiB`
 * all mean 1024 octets; a quota is about disk, not marketing).
 */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  const bytes = m ? Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!) : NaN;
  if (!Number.isSafeInteger(bytes)) throw usage(`${what}: "${text}" is not a size (a number with an optional K, M, G or T, 1024-based: 500M, 2G)`);
  return bytes;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };

/** `30m`, `48h`, `7d`, `2w`, or `0`: whole seconds. A bare number other than 0 is refused: minutes or hours? */
export function parseDuration(text: string, what: string): number {
  if (text.trim() === "0") return 0;
  const m = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!m) throw usage(`${what}: "${text}" is not a duration (a whole number and s, m, h, d or w: 30m, 48h, 7d)`);
  return Number(m[1]) * DURATION_UNITS[m[2]!]!;
}

/** A moment given as a duration back from now (`7d`) or a UTC date (`2025-01-31`, or ISO 8601 with a time): ms since the epoch. */
export function parseSince(text: string, what: string, now = Date.now()): number {
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    const iso = text.trim().replace(" ", "T");
    const ms = Date.parse(/T.*(Z|[+-]\d{2}:?\d{2})$/.test(iso) || !iso.includes("T") ? iso : iso + "Z");
    if (!Number.isNaN(ms)) return ms;
  }
  try {
    return now - parseDuration(text, what) * 1000;
  } catch {
    throw usage(`${what}: "${text}" is neither a duration back from now (7d, 12h) nor a date (2025-01-31)`);
  }
}

/** `a,b,c` (spaces allowed around commas); empty items are an error, not silently dropped. */
export function parseList(text: string, what: string): string[] {
  const items = text.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) throw usage(`${what}: "${text}" has an empty item (give a comma-separated list)`);
  return items;
}

export function oneOf<T extends string>(text: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(text)) throw usage(`${what}: "${text}" is not one of ${allowed.join(", ")}`);
  return text as T;
}
