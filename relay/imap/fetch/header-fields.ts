/**
 * HEADER.FIELDS / HEADER.FIELDS.NOT (RFC 9051 §6.4.5): picks header fields by name from a
 * header block. Fields come back in message order with their original case and folding,
 * followed by the blank line — unless the message has none (a header without a body and
 * without the empty line after it): "the blank line is included in all header fetches,
 * except in the case of a message which has no body and no blank line" (RFC 3501 §6.4.5).
 */
export function filterHeaderFields(header: Buffer, names: string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const out: Buffer[] = [];
  let keep = false;
  let pos = 0;
  let blankLine = false;
  while (pos < header.length) {
    let end = header.indexOf("\n", pos);
    end = end < 0 ? header.length : end + 1;
    const line = header.subarray(pos, end);
    pos = end;
    if (line[0] === 0x0a || (line[0] === 0x0d && line[1] === 0x0a)) {
      blankLine = true; // the blank line ends the header
      break;
    }
    if (line[0] === 0x20 || line[0] === 0x09) {
      if (keep) out.push(line);
      continue;
    }
    const colon = line.indexOf(":");
    const name = (colon < 0 ? "" : line.subarray(0, colon).toString("latin1")).trim().toLowerCase();
    keep = colon >= 0 && wanted.has(name) !== not;
    if (keep) out.push(line);
  }
  if (blankLine) out.push(Buffer.from("\r\n"));
  return Buffer.concat(out);
}
