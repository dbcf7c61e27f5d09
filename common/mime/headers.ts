/**
 * Header block parsing with Dovecot 2.3 semantics (message-header-parser.c, with the
 * SKIP_INITIAL_LWSP flag index-mail uses).
 *
 * A field is its first line plus every following line that starts with SP or HTAB. The
 * name is what precedes the first ':' of the first line, with trailing SP/HTAB removed
 * (so `Name : value` is found as `Name`); a line without ':' is a field whose name is the
 * whole line and whose value is empty. The value starts after the ':' and the SP/HTAB
 * that follow it (if the first line holds only SP/HTAB, just one is skipped). The value
 * is NOT unfolded: continuation lines keep their CRLF and leading whitespace, exactly as
 * in the message. A line that is empty (CRLF or LF) ends the block.
 *
 * Names and values are binary strings (one char per octet, see bytes.ts).
 */

import { CR, LF, bytesToBinary, equalsIgnoreCase } from "./bytes.ts";

export interface HeaderField {
  /** Field name, trailing SP/HTAB removed. */
  name: string;
  /** Field body after ':' and leading SP/HTAB, folds kept, final line end removed. */
  value: string;
  /** Offset of the field's first octet in the message. */
  start: number;
  /** Offset just after the field's final line end (or the end of input). */
  end: number;
}

export type HeaderLine =
  | { kind: "eoh"; size: number }
  | { kind: "field"; field: HeaderField; newline: number };

function isLwsp(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Read the header line (field or terminating empty line) at `pos`. Returns null at the
 * end of input. `newline` is the size of the field's final line end (0 at end of input).
 */
export function readHeaderLine(raw: Uint8Array, pos: number, end = raw.length): HeaderLine | null {
  if (pos >= end) return null;
  if (raw[pos] === LF) return { kind: "eoh", size: 1 };
  if (raw[pos] === CR && pos + 1 < end && raw[pos + 1] === LF) return { kind: "eoh", size: 2 };

  // First physical line.
  let lf = raw.indexOf(LF, pos);
  if (lf >= end) lf = -1;
  const firstContentEnd = lf === -1 ? end : lf > pos && raw[lf - 1] === CR ? lf - 1 : lf;
  let fieldEnd = lf === -1 ? end : lf + 1;
  let contentEnd = firstContentEnd;
  let newline = lf === -1 ? 0 : fieldEnd - firstContentEnd;
  // Continuation lines.
  while (newline > 0 && fieldEnd < end && isLwsp(raw[fieldEnd])) {
    let next = raw.indexOf(LF, fieldEnd);
    if (next >= end) next = -1;
    if (next === -1) {
      contentEnd = end;
      fieldEnd = end;
      newline = 0;
    } else {
      contentEnd = next > fieldEnd && raw[next - 1] === CR ? next - 1 : next;
      newline = next + 1 - contentEnd;
      fieldEnd = next + 1;
    }
  }

  let colon = -1;
  for (let i = pos; i < firstContentEnd; i++) {
    if (raw[i] === 0x3a) {
      colon = i;
      break;
    }
  }
  let name: string;
  let valueStart: number;
  if (colon === -1) {
    name = bytesToBinary(raw, pos, firstContentEnd);
    valueStart = firstContentEnd;
  } else {
    let nameEnd = colon;
    while (nameEnd > pos && isLwsp(raw[nameEnd - 1])) nameEnd--;
    name = bytesToBinary(raw, pos, nameEnd);
    valueStart = colon + 1;
    let p = valueStart;
    while (p < firstContentEnd && isLwsp(raw[p])) p++;
    if (p === firstContentEnd) p = firstContentEnd > valueStart ? valueStart + 1 : valueStart;
    valueStart = p;
  }
  const value = bytesToBinary(raw, valueStart, contentEnd);
  return { kind: "field", field: { name, value, start: pos, end: fieldEnd }, newline };
}

export interface HeaderBlock {
  fields: HeaderField[];
  /** Octets of the block including the terminating empty line, if there is one. */
  size: number;
}

/** Parse the header block that starts at `start` (no MIME boundaries are considered). */
export function parseHeaderBlock(raw: Uint8Array, start = 0, end = raw.length): HeaderBlock {
  const fields: HeaderField[] = [];
  let pos = start;
  for (;;) {
    const line = readHeaderLine(raw, pos, end);
    if (line === null) break;
    if (line.kind === "eoh") {
      pos += line.size;
      break;
    }
    fields.push(line.field);
    pos = line.field.end;
  }
  return { fields, size: pos - start };
}

/** Every field called `name` (ASCII case-insensitive), in message order. */
export function findFields(fields: readonly HeaderField[], name: string): HeaderField[] {
  return fields.filter((f) => equalsIgnoreCase(f.name, name));
}

/** The first field called `name`, or null. */
export function findField(fields: readonly HeaderField[], name: string): HeaderField | null {
  return fields.find((f) => equalsIgnoreCase(f.name, name)) ?? null;
}
