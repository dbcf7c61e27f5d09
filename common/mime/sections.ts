/**
 * Resolving an IMAP section spec (RFC 3501 §6.4.5) to a byte range of the raw message,
 * with Dovecot 2.3's part lookup (imap-msgpart.c):
 *
 * - "" is the whole message, "HEADER"/"TEXT" its header and body. HEADER.FIELDS and
 *   HEADER.FIELDS.NOT resolve to the header block; filtering the fields is the caller's.
 * - "n" of a multipart is its n-th body part; "1" of a non-multipart is the part itself
 *   (so "1.MIME" of a single-part message is the message header), any other number
 *   does not exist. A number that follows a message/rfc822 part descends into the
 *   encapsulated message.
 * - "p" is the body of part p, "p.MIME" its MIME header; "p.HEADER"/"p.TEXT" (and
 *   HEADER.FIELDS[.NOT]) exist only when p is message/rfc822 and select the header/body of
 *   the encapsulated message.
 *
 * A part that does not exist gives null (Dovecot then sends an empty literal). Partial
 * fetches (`<o.n>`) are applied by the caller to the returned range.
 */

import type { BodyPart, MessageIndex } from "./types.ts";

export type SectionRange = { start: number; end: number };

export function resolveSection(index: MessageIndex, section: string): SectionRange | null {
  // Split "1.2.3.MIME" into the part number and the rest, like imap_msgpart_parse().
  let i = 0;
  let nextDigit = true;
  for (; i < section.length; i++) {
    const c = section.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) nextDigit = false;
    else if (!nextDigit && c === 0x2e) nextDigit = true;
    else break;
  }
  let numbers: string;
  let rest: string;
  if (i === 0) {
    numbers = "";
    rest = section;
  } else if (i === section.length) {
    if (section[i - 1] === ".") return null;
    numbers = section;
    rest = "";
  } else {
    if (section[i - 1] !== ".") return null;
    numbers = section.slice(0, i - 1);
    rest = section.slice(i);
  }
  const kind = sectionKind(rest);
  if (kind === null) return null;

  if (numbers === "") {
    switch (kind) {
      case "body":
        return { start: 0, end: index.size };
      case "header":
        return { start: 0, end: index.headerSize };
      case "text":
        return { start: index.headerSize, end: index.size };
      case "mime":
        return null;
    }
  }

  const part = findPart(index.body, numbers.split(".").map(Number));
  if (part === null) return null;
  switch (kind) {
    case "mime":
      return { start: part.headerStart, end: part.bodyStart };
    case "body":
      return { start: part.bodyStart, end: part.bodyEnd };
    case "header":
    case "text": {
      if (part.message === undefined) return null;
      const inner = part.message.body;
      return kind === "header"
        ? { start: inner.headerStart, end: inner.bodyStart }
        : { start: inner.bodyStart, end: inner.bodyEnd };
    }
  }
}

type Kind = "body" | "mime" | "header" | "text";

function sectionKind(rest: string): Kind | null {
  if (rest === "") return "body";
  const upper = rest.toUpperCase();
  if (upper === "MIME") return "mime";
  if (upper === "TEXT") return "text";
  if (upper === "HEADER" || upper.startsWith("HEADER.FIELDS")) return "header";
  return null;
}

/** The part a section's part path (`[1, 2]` for "1.2") names, with Dovecot's lookup rules; null if none. */
export function findPart(root: BodyPart, path: number[]): BodyPart | null {
  let part: BodyPart | null = root;
  for (let i = 0; i < path.length && part !== null; i++) {
    const num = path[i]!;
    const more = i + 1 < path.length;
    if (part.parts !== undefined) {
      part = num >= 1 ? (part.parts[num - 1] ?? null) : null;
    } else if (num !== 1 || (more && part.message === undefined)) {
      part = null;
    }
    if (part !== null && part.message !== undefined && more) part = part.message.body;
  }
  return part;
}
