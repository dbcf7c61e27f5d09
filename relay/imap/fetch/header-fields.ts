/**
 * HEADER.FIELDS / HEADER.FIELDS.NOT (RFC 9051 §6.4.5): picks header fields by name from a
 * header block. Fields come back in message order with their original case and folding,
 * followed by the blank line, as Dovecot does.
 */
export function filterHeaderFields(header: Buffer, names: string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const out: Buffer[] = [];
  let keep = false;
  let pos = 0;
  while (pos < header.length) {
    let end = header.indexOf("\n", pos);
    end = end < 0 ? header.length : end + 1;
    const line = header.subarray(pos, end);
    pos = end;
    if (line.length === 0 || line[0] === 0x0d || line[0] === 0x0a) break; // the blank line ends the header
    if (line[0] === 0x20 || line[0] === 0x09) {
      if (keep) out.push(line);
      continue;
    }
    const colon = line.indexOf(":");
    const name = (colon < 0 ? "" : line.subarray(0, colon).toString("latin1")).trim().toLowerCase();
    keep = colon >= 0 && wanted.has(name) !== not;
    if (keep) out.push(line);
  }
  out.push(Buffer.from("\r\n"));
  return Buffer.concat(out);
}
