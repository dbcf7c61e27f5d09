/**
 * RFC 5322 date-time parsing (§3.3 with the obsolete forms of §4.3), for SENTON/SENTBEFORE/
 * SENTSINCE (the calendar date in the header's own zone) and SORT DATE (the instant).
 *
 *   [day-of-week ","] day month year hour ":" minute [":" second] zone
 *
 * Accepted besides the modern form: comments anywhere (nested, with quoted-pairs), missing
 * or full-length day names, missing seconds, 2-digit years (00-49 → 20xx, 50-99 → 19xx) and
 * 3-digit years (+1900), full month names, "Jan 1 2026" order, asctime's
 * "Thu Jan  1 08:00:00 2026", zone names (UT, GMT, Z, EST/EDT, CST/CDT, MST/MDT, PST/PDT),
 * "+hh:mm". Per RFC 5322 §4.3 military and other unknown zone names, and a missing zone,
 * count as +0000. A missing time is 00:00:00. Anything else, or an impossible date, is null.
 */

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const ZONES = new Map<string, number>([
  ["ut", 0],
  ["utc", 0],
  ["gmt", 0],
  ["z", 0],
  ["est", -300],
  ["edt", -240],
  ["cst", -360],
  ["cdt", -300],
  ["mst", -420],
  ["mdt", -360],
  ["pst", -480],
  ["pdt", -420],
]);

export interface MessageDate {
  /** "YYYY-MM-DD" as written (in the header's own zone). */
  date: string;
  /** ms since the epoch. */
  at: number;
}

function stripComments(s: string): string {
  let out = "";
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (depth > 0) {
      if (c === "\\") i++;
      else if (c === "(") depth++;
      else if (c === ")") depth--;
      if (depth === 0) out += " ";
      continue;
    }
    if (c === "(") depth++;
    else out += c;
  }
  return out;
}

function monthOf(token: string | undefined): number {
  if (token === undefined || token.length < 3 || !/^[a-z]+\.?$/i.test(token)) return -1;
  return MONTHS.indexOf(token.slice(0, 3).toLowerCase());
}

function isDayName(token: string): boolean {
  return /^[a-z]{3,}\.?$/i.test(token) && DAYS.includes(token.slice(0, 3).toLowerCase());
}

function daysIn(year: number, month: number): number {
  if (month === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month]!;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** Parse a Date: field body (already unfolded or not). Null when it is not a date. */
export function parseMessageDate(value: string): MessageDate | null {
  if (value.length > 1000) return null;
  let tokens = stripComments(value)
    .replace(/[\r\n]/g, " ")
    .replace(/[ \t]*:[ \t]*/g, ":") // obs-time allows FWS around ":"
    .split(/[\s,]+/)
    .filter((t) => t !== "");
  // "1-Jan-2026" (IMAP style) → three tokens
  tokens = tokens.flatMap((t) => (/^\d{1,2}-[a-z]{3,}-\d{2,4}$/i.test(t) ? t.split("-") : [t]));
  let i = 0;
  if (tokens[i] !== undefined && isDayName(tokens[i]!)) i++;

  let day: number;
  let month: number;
  if (/^\d{1,2}$/.test(tokens[i] ?? "") && monthOf(tokens[i + 1]) >= 0) {
    day = Number(tokens[i]);
    month = monthOf(tokens[i + 1]);
  } else if (monthOf(tokens[i]) >= 0 && /^\d{1,2}$/.test(tokens[i + 1] ?? "")) {
    month = monthOf(tokens[i]);
    day = Number(tokens[i + 1]);
  } else {
    return null;
  }
  i += 2;

  let year = -1;
  let time: RegExpExecArray | null = null;
  let zone: number | null = null;
  for (; i < tokens.length; i++) {
    const t = tokens[i]!;
    let m: RegExpExecArray | null;
    if (year < 0 && /^\d{2,4}$/.test(t)) {
      year = Number(t);
      if (t.length === 2) year += year < 50 ? 2000 : 1900;
      else if (t.length === 3) year += 1900;
    } else if (time === null && (m = /^(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?$/.exec(t)) !== null) {
      time = m;
    } else if (zone === null && (m = /^([+-])(\d{2}):?(\d{2})$/.exec(t)) !== null) {
      const minutes = Number(m[3]);
      if (minutes > 59) return null;
      zone = (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + minutes);
    } else if (zone === null && /^[a-z]{1,5}$/i.test(t)) {
      zone = ZONES.get(t.toLowerCase()) ?? 0; // obs-zone: unknown names mean -0000
    } else {
      return null;
    }
  }
  if (year < 0) return null;
  const hour = time === null ? 0 : Number(time[1]);
  const minute = time === null ? 0 : Number(time[2]);
  const second = time === null || time[3] === undefined ? 0 : Number(time[3]);
  if (day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 60) return null;

  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  d.setUTCHours(hour, minute, second, 0);
  const at = d.getTime() - (zone ?? 0) * 60_000;
  if (!Number.isSafeInteger(at)) return null;
  return { date: `${pad(year, 4)}-${pad(month + 1, 2)}-${pad(day, 2)}`, at };
}
