/**
 * Response formatting (RFC 9051 §7, §9 `response`). Every helper returns the exact wire bytes,
 * ending in CRLF where the result is a whole response line. Free text is made safe for a
 * `text` production: CR and LF become spaces so a message can never inject a response line.
 */

const CRLF = Buffer.from("\r\n");

export type ResponseStatus = "OK" | "NO" | "BAD";

/** Text as TEXT-CHAR only: CR, LF and NUL become spaces. */
export function sanitizeText(text: string): string {
  return text.replace(/[\r\n\0]/g, " ");
}

function respText(text: string, code: string | null | undefined): string {
  const clean = sanitizeText(text);
  // resp-text = ["[" resp-text-code "]" SP] [text]
  if (code) return `[${sanitizeText(code)}] ${clean}`;
  return clean;
}

/** `tag OK [CODE] text\r\n` */
export function tagged(tag: string, status: ResponseStatus, text: string, code: string | null = null): Buffer {
  const rest = respText(text, code);
  return Buffer.from(rest.length > 0 ? `${tag} ${status} ${rest}\r\n` : `${tag} ${status}\r\n`);
}

/** `* OK [CODE] text\r\n`, `* BAD text\r\n`, `* BYE text\r\n`: an untagged status response. */
export function untaggedStatus(status: ResponseStatus | "BYE" | "PREAUTH", text: string, code: string | null = null): Buffer {
  const rest = respText(text, code);
  return Buffer.from(rest.length > 0 ? `* ${status} ${rest}\r\n` : `* ${status}\r\n`);
}

/** `* text\r\n`, the text taken verbatim (it is protocol data, not free text). */
export function untagged(text: string): Buffer {
  return Buffer.from(`* ${text}\r\n`);
}

/**
 * `* ` + the parts concatenated verbatim (no separators added) + CRLF. Use Buffers for parts
 * that hold literals or 8-bit data, e.g. `untaggedParts(["LIST () \"/\" ", astring(name)])`.
 */
export function untaggedParts(parts: readonly (string | Uint8Array)[]): Buffer {
  const buffers: Uint8Array[] = [Buffer.from("* ")];
  for (const part of parts) buffers.push(typeof part === "string" ? Buffer.from(part) : part);
  buffers.push(CRLF);
  return Buffer.concat(buffers);
}

/** `+ text\r\n`: a command continuation request. */
export function continuation(text = ""): Buffer {
  return Buffer.from(`+ ${sanitizeText(text)}\r\n`);
}

/** `(\Seen \Flagged $Junk)` */
export function flagList(flags: readonly string[]): string {
  return `(${flags.join(" ")})`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/**
 * An INTERNALDATE `date-time` in wire form, double quotes included:
 * `"01-Jan-2026 12:00:00 +0000"`. The day is zero-padded (as Dovecot sends it; `2DIGIT` is
 * one of the two forms `date-day-fixed` allows). `tzOffsetMinutes` is the zone to show the
 * time in, east of UTC positive.
 */
export function internalDate(ms: number, tzOffsetMinutes = 0): string {
  const local = new Date(ms + tzOffsetMinutes * 60_000);
  const sign = tzOffsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(Math.trunc(tzOffsetMinutes));
  const zone = `${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
  const day = pad2(local.getUTCDate());
  const month = MONTHS[local.getUTCMonth()] as string;
  const year = String(local.getUTCFullYear()).padStart(4, "0");
  const time = `${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}`;
  return `"${day}-${month}-${year} ${time} ${zone}"`;
}

/**
 * `* seq FETCH (NAME value NAME value)\r\n`. Values go out verbatim: pass encoded strings,
 * lists or literals (see strings.ts), e.g. `["FLAGS", flagList(flags)]`, `["BODY[]", literal(bytes)]`.
 */
export function fetchResponse(seq: number, items: readonly (readonly [name: string, value: string | Uint8Array])[]): Buffer {
  const buffers: Uint8Array[] = [Buffer.from(`* ${seq} FETCH (`)];
  items.forEach(([name, value], i) => {
    buffers.push(Buffer.from(i === 0 ? `${name} ` : ` ${name} `));
    buffers.push(typeof value === "string" ? Buffer.from(value) : value);
  });
  buffers.push(Buffer.from(")\r\n"));
  return Buffer.concat(buffers);
}
