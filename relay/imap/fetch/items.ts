/**
 * FETCH data items (RFC 9051 §6.4.5, MODSEQ from RFC 7162, BINARY[.PEEK] and BINARY.SIZE
 * from RFC 3516): parses the request into a list of items the FETCH handler renders. Macros
 * (ALL, FAST, FULL) and the RFC822.* forms are expanded here, so the handler sees only a few
 * kinds.
 */
import type { Token } from "../protocol/parser.ts";
import { ImapProtocolError } from "../protocol/errors.ts";

export type FetchItem =
  | { kind: "FLAGS" | "UID" | "RFC822.SIZE" | "INTERNALDATE" | "ENVELOPE" | "BODYSTRUCTURE" | "BODY" | "MODSEQ" }
  | SectionItem
  | BinaryItem
  | BinarySizeItem;

/** BINARY[part]<o.n> and BINARY.PEEK (RFC 3516): the part with its transfer encoding undone. */
export interface BinaryItem {
  kind: "binary";
  peek: boolean;
  /** Part path, "" for the whole message. */
  part: string;
  partial: { offset: number; length: number } | null;
  /** e.g. "BINARY[1.2]<0>". */
  responseName: string;
}

/** BINARY.SIZE[part] (RFC 3516): the decoded size of the part. */
export interface BinarySizeItem {
  kind: "binarySize";
  part: string;
  responseName: string;
}

export interface SectionItem {
  kind: "section";
  /** BODY.PEEK and RFC822.HEADER do not set \Seen. */
  peek: boolean;
  /** Part path, "" for the whole message, e.g. "1.2". */
  part: string;
  /** "", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT" or "MIME". */
  specifier: string;
  fields: string[];
  partial: { offset: number; length: number } | null;
  /** How the item is named in the response, e.g. "BODY[HEADER]<0>" or "RFC822.TEXT". */
  responseName: string;
}

const MACROS: Record<string, string[]> = {
  ALL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
  FAST: ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
  FULL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"],
};

const SIMPLE = new Set(["FLAGS", "UID", "RFC822.SIZE", "INTERNALDATE", "ENVELOPE", "BODYSTRUCTURE", "BODY", "MODSEQ"]);

export function parseFetchItems(token: Token): FetchItem[] {
  if (token.type === "atom") {
    const macro = MACROS[token.value.toUpperCase()];
    if (macro) return macro.map(parseFetchItem);
    return [parseFetchItem(token.value)];
  }
  if (token.type === "list") {
    if (token.items.length === 0) throw new ImapProtocolError("BAD", "Empty FETCH item list");
    return token.items.map((item) => {
      if (item.type !== "atom") throw new ImapProtocolError("BAD", "Invalid FETCH item");
      return parseFetchItem(item.value);
    });
  }
  throw new ImapProtocolError("BAD", "Invalid FETCH item list");
}

const SECTION = /^(BODY(?:\.PEEK)?)\[([^\]]*)\](?:<(\d+)\.(\d+)>)?$/i;
const PART = /^((?:[1-9]\d*)(?:\.[1-9]\d*)*)?(?:^|\.|$)(.*)$/s;

export function parseFetchItem(text: string): FetchItem {
  const upper = text.toUpperCase();
  if (SIMPLE.has(upper)) return { kind: upper as "FLAGS" };
  if (upper === "RFC822") return section(false, "", "", [], null, "RFC822");
  if (upper === "RFC822.HEADER") return section(true, "", "HEADER", [], null, "RFC822.HEADER");
  if (upper === "RFC822.TEXT") return section(false, "", "TEXT", [], null, "RFC822.TEXT");
  if (upper.startsWith("BINARY")) return parseBinaryItem(text);
  const m = SECTION.exec(text);
  if (!m) throw new ImapProtocolError("BAD", `Unknown FETCH item ${text.slice(0, 60)}`);
  const peek = m[1]!.toUpperCase() === "BODY.PEEK";
  const spec = m[2]!;
  const partial = m[3] !== undefined ? { offset: Number(m[3]), length: Number(m[4]) } : null;
  if (partial && partial.length === 0) throw new ImapProtocolError("BAD", "Partial length must be non-zero");
  const fieldsAt = spec.indexOf(" ");
  const head = (fieldsAt < 0 ? spec : spec.slice(0, fieldsAt)).toUpperCase();
  const pm = PART.exec(head)!;
  const part = pm[1] ?? "";
  const specifier = pm[2] ?? "";
  if (!["", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"].includes(specifier)) {
    throw new ImapProtocolError("BAD", `Invalid section ${spec.slice(0, 60)}`);
  }
  if (specifier === "MIME" && part === "") throw new ImapProtocolError("BAD", "MIME needs a part number");
  let fields: string[] = [];
  if (specifier.startsWith("HEADER.FIELDS")) {
    const list = fieldsAt < 0 ? "" : spec.slice(fieldsAt + 1).trim();
    const lm = /^\((.*)\)$/.exec(list);
    if (!lm) throw new ImapProtocolError("BAD", "HEADER.FIELDS needs a list of field names");
    fields = lm[1]!.split(/\s+/).filter(Boolean).map(unquote);
    if (fields.length === 0) throw new ImapProtocolError("BAD", "HEADER.FIELDS needs a list of field names");
  } else if (fieldsAt >= 0) {
    throw new ImapProtocolError("BAD", `Invalid section ${spec.slice(0, 60)}`);
  }
  const sectionText = [part, specifier].filter(Boolean).join(".") + (fields.length ? ` (${fields.map((f) => f.toUpperCase()).join(" ")})` : "");
  const responseName = `BODY[${sectionText}]${partial ? `<${partial.offset}>` : ""}`;
  return section(peek, part, specifier, fields, partial, responseName);
}

function section(
  peek: boolean,
  part: string,
  specifier: string,
  fields: string[],
  partial: SectionItem["partial"],
  responseName: string,
): SectionItem {
  return { kind: "section", peek, part, specifier, fields, partial, responseName };
}

function unquote(s: string): string {
  return s.startsWith('"') && s.endsWith('"') && s.length >= 2 ? s.slice(1, -1) : s;
}

const BINARY = /^BINARY(\.PEEK)?\[((?:[1-9]\d*)(?:\.[1-9]\d*)*)?\](?:<(\d+)\.(\d+)>)?$/i;
const BINARY_SIZE = /^BINARY\.SIZE\[((?:[1-9]\d*)(?:\.[1-9]\d*)*)?\]$/i;

/** `BINARY[1.2]<0.100>`, `BINARY.PEEK[1]`, `BINARY.SIZE[2]`: only part numbers, no HEADER/TEXT/MIME. */
function parseBinaryItem(text: string): FetchItem {
  const size = BINARY_SIZE.exec(text);
  if (size) {
    const part = size[1] ?? "";
    return { kind: "binarySize", part, responseName: `BINARY.SIZE[${part}]` };
  }
  const m = BINARY.exec(text);
  if (!m) throw new ImapProtocolError("BAD", `Invalid BINARY item ${text.slice(0, 60)}`);
  const part = m[2] ?? "";
  const partial = m[3] !== undefined ? { offset: Number(m[3]), length: Number(m[4]) } : null;
  if (partial && partial.length === 0) throw new ImapProtocolError("BAD", "Partial length must be non-zero");
  return { kind: "binary", peek: m[1] !== undefined, part, partial, responseName: `BINARY[${part}]${partial ? `<${partial.offset}>` : ""}` };
}
