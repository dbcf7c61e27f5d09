/**
 * How `edgemail` prints for people: aligned tables, colours, sizes and times.
 * Scripts use `--json` instead, so nothing here is a format to parse.
 *
 * Callers may rely on: every function is pure; `paint` returns the text unchanged unless it is
 * told colour is on (the caller decides: a TTY, no NO_COLOR, not --json), and `table` measures
 * cells without their colour codes, so painted cells still line up.
 */
import { stripVTControlCharacters, styleText } from "node:util";

export type Style = "green" | "red" | "yellow" | "cyan" | "dim" | "bold";

export function paint(color: boolean, style: Style, text: string): string {
  return color && text !== "" ? styleText(style, text, { validateStream: false }) : text;
}

export interface TableOptions {
  /** Columns (by index) whose cells are right-aligned: numbers and sizes. */
  right?: number[];
  color?: boolean;
}

/** A header row and the rows under it, columns two spaces apart; a table without rows is its header. */
export function table(head: string[], rows: string[][], options: TableOptions = {}): string {
  const width = (s: string) => stripVTControlCharacters(s).length;
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => width(r[i] ?? ""))));
  const right = new Set(options.right ?? []);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const pad = " ".repeat(widths[i]! - width(cell));
        return right.has(i) ? pad + cell : cell + pad;
      })
      .join("  ")
      .trimEnd();
  return [line(head.map((h) => paint(options.color ?? false, "bold", h))), ...rows.map(line)].join("\n");
}

/** `key  value` lines with the keys aligned, for one record (domain show, queue show). */
export function fields(pairs: [string, string][], color = false): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${paint(color, "dim", k.padEnd(w))}  ${v}`.trimEnd()).join("\n");
}

const UNITS = ["B", "K", "M", "G", "T"] as const;

/** Octets in 1024-based units, spelled as `--quota` accepts them: 900B, 12K, 1.5G. */
export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 || value >= 10 || Number.isInteger(value) ? String(Math.round(value)) : value.toFixed(1);
  return text + UNITS[unit];
}

/** Seconds as the largest unit that divides them exactly (14d, 36h, 90s), as durations are given. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]] as const) {
    if (seconds > 0 && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** A moment (ms since the epoch) in UTC to the minute: operators compare it with logs and DNS TTLs. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + "Z";
}

/** Prints the API's JSON (pretty, nothing else) under --json, else the human form. */
export function emit(ctx: { json: boolean; out: (line: string) => void }, json: unknown, human: () => string): void {
  ctx.out(ctx.json ? JSON.stringify(json, null, 2) : human());
}
