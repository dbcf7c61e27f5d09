/**
 * The MIME part tree with byte offsets, built the way Dovecot 2.3's message-parser.c
 * splits a message, so that sizes, line counts and section ranges match it exactly:
 *
 * - A multipart part only gets children when its Content-Type has a boundary and its
 *   header ends with an empty line. Otherwise (043) it has none, and neither does a
 *   multipart whose body holds no delimiter (056).
 * - A delimiter line only has to START with `--boundary`; the innermost open boundary
 *   wins, and among prefixes the longest. The CRLF before a delimiter belongs to the
 *   delimiter, so a part ends before it. A missing close delimiter lets the last part
 *   run to the end of the message (038). Preamble and epilogue belong to the multipart.
 * - A header block also ends at a line that is an enclosing delimiter; that header then
 *   loses its last CRLF to the parent's body (057: [2] is 202 octets, [2.HEADER] 200).
 * - message/rfc822 (and parts without Content-Type under multipart/digest) are parsed as
 *   an encapsulated message whatever their transfer encoding. message/global is not.
 * - Content-* fields only count when the part is MIME: it is a body part of a
 *   multipart, or its header has MIME-Version or Content-Type. The first occurrence of
 *   each Content-* field wins.
 * - Like Dovecot, nesting stops at 100 levels and the part count at 10000.
 */

import { CR, LF, LineCounter, binaryToBytes, equalsIgnoreCase } from "./bytes.ts";
import {
  parseContentDisposition,
  parseContentLanguage,
  parseContentType,
  parseParams,
  parseTransferEncoding,
  type ContentType,
} from "./content-type.ts";
import { buildEnvelope } from "./envelope.ts";
import { readHeaderLine, type HeaderField } from "./headers.ts";
import { Acc, Rfc822Parser } from "./rfc822.ts";
import type { BodyPart } from "./types.ts";

const F_IS_MIME = 1;
const F_TEXT = 2;
const F_RFC822 = 4;
const F_MULTIPART = 8;
const F_DIGEST = 16;

const BOUNDARY_STRING_MAX_LEN = 80;
const BOUNDARY_END_MAX_LEN = 70 + 2 + 2 + 10;
const MAX_NESTED_PARTS = 100;
const MAX_TOTAL_PARTS = 10000;

/** A parsed part, before it is turned into a BodyPart. */
export interface PartNode {
  parent: PartNode | null;
  headerStart: number;
  headerSize: number;
  bodySize: number;
  flags: number;
  fields: HeaderField[];
  children: PartNode[];
}

interface Boundary {
  part: PartNode;
  bytes: Uint8Array;
  epilogueFound: boolean;
  next: Boundary | null;
}

type State = "header" | "to-boundary" | "to-eof" | "done";

class StructureParser {
  private readonly raw: Uint8Array;
  private readonly end: number;
  private pos = 0;
  private part: PartNode;
  private boundaries: Boundary | null = null;
  private nested = 0;
  private total = 1;
  readonly root: PartNode;

  constructor(raw: Uint8Array) {
    this.raw = raw;
    this.end = raw.length;
    this.root = this.part = newNode(null, 0);
  }

  run(): PartNode {
    let state: State = "header";
    while (state !== "done") {
      if (state === "header") state = this.parseHeader();
      else if (state === "to-boundary") state = this.bodyToBoundary();
      else {
        this.part.bodySize += this.end - this.pos;
        this.pos = this.end;
        this.finishAll();
        state = "done";
      }
    }
    return this.root;
  }

  private tooManyNested(): boolean {
    return this.nested + 1 >= MAX_NESTED_PARTS;
  }

  private append(flags: number): PartNode {
    const parent = this.part;
    const child = newNode(parent, parent.headerStart + parent.headerSize + parent.bodySize);
    child.flags = flags;
    parent.children.push(child);
    this.part = child;
    this.nested++;
    this.total++;
    return child;
  }

  private finish(): void {
    const part = this.part;
    const parent = part.parent!;
    parent.bodySize += part.headerSize + part.bodySize;
    this.part = parent;
    this.nested--;
  }

  private finishAll(): void {
    while (this.part.parent !== null) this.finish();
  }

  /** The boundary whose delimiter line starts at `p`, if any (boundary_line_find). */
  private findBoundaryLine(p: number): Boundary | null {
    if (this.boundaries === null || this.total >= MAX_TOTAL_PARTS) return null;
    const raw = this.raw;
    if (this.end - p < 2 || raw[p] !== 0x2d || raw[p + 1] !== 0x2d) return null;
    const d = p + 2;
    const size = this.end - d;
    let lf = raw.indexOf(LF, d);
    if (lf >= this.end) lf = -1;
    let findSize: number;
    if (lf !== -1) {
      findSize = lf - d;
      if (findSize > 0 && raw[d + findSize - 1] === CR) findSize--;
      if (findSize > 2 && raw[d + findSize - 1] === 0x2d && raw[d + findSize - 2] === 0x2d) findSize -= 2;
    } else {
      findSize = Math.min(size, BOUNDARY_END_MAX_LEN);
    }
    let best: Boundary | null = null;
    for (let b: Boundary | null = this.boundaries; b !== null; b = b.next) {
      const len = b.bytes.length;
      if (len <= findSize && (best === null || best.bytes.length < len) && startsWith(raw, d, b.bytes)) {
        best = b;
        if (len === findSize) break;
      }
    }
    if (best === null) return null;
    const len = best.bytes.length;
    best.epilogueFound = size >= len + 2 && raw[d + len] === 0x2d && raw[d + len + 1] === 0x2d;
    return best;
  }

  private parseHeader(): State {
    const part = this.part;
    const raw = this.raw;
    let seenContentType = false;
    let lastBoundary: string | null = null;
    let prevNewline = 0;
    let multipart = false;
    for (;;) {
      // A line that is an enclosing delimiter ends the header, without its last CRLF.
      const b = this.findBoundaryLine(this.pos);
      if (b !== null && b.part !== part) {
        if (prevNewline > 0) {
          part.headerSize -= prevNewline;
          part.parent!.bodySize += prevNewline;
        }
        break;
      }
      const line = readHeaderLine(raw, this.pos, this.end);
      if (line === null) break;
      if (line.kind === "eoh") {
        if (lastBoundary !== null && (part.flags & F_IS_MIME) !== 0) {
          if (!this.tooManyNested()) {
            this.boundaries = {
              part,
              bytes: binaryToBytes(lastBoundary),
              epilogueFound: false,
              next: this.boundaries,
            };
            multipart = true;
          } else {
            part.flags &= ~F_MULTIPART;
          }
        }
        part.headerSize += line.size;
        this.pos += line.size;
        break;
      }
      const field = line.field;
      if (equalsIgnoreCase(field.name, "MIME-Version")) {
        part.flags |= F_IS_MIME;
      } else if (equalsIgnoreCase(field.name, "Content-Type")) {
        part.flags |= F_IS_MIME;
        if (!seenContentType) {
          seenContentType = true;
          lastBoundary = contentTypeFlags(part, field.value);
        }
      }
      part.fields.push(field);
      part.headerSize += field.end - field.start;
      prevNewline = line.newline;
      this.pos = field.end;
    }

    // End of header.
    if ((part.flags & F_IS_MIME) === 0) part.flags = 0;
    if (!seenContentType || (part.flags & F_IS_MIME) === 0) {
      if (part.parent !== null && (part.parent.flags & F_DIGEST) !== 0) part.flags |= F_RFC822;
      else part.flags |= F_TEXT;
    }
    if (multipart) return "to-boundary";
    if ((part.flags & F_RFC822) !== 0) {
      if (!this.tooManyNested() && this.total < MAX_TOTAL_PARTS) {
        this.append(0);
        return "header";
      }
      part.flags &= ~F_RFC822;
    }
    return this.boundaries !== null ? "to-boundary" : "to-eof";
  }

  /** Body data up to the next delimiter line of an open multipart (or the end). */
  private bodyToBoundary(): State {
    const raw = this.raw;
    // Here we are always at the start of a line: a delimiter may come first.
    let b = this.findBoundaryLine(this.pos);
    if (b !== null) return this.partFinish(b, true, this.pos);
    for (let n = raw.indexOf(LF, this.pos); n !== -1 && n < this.end; n = raw.indexOf(LF, n + 1)) {
      b = this.findBoundaryLine(n + 1);
      if (b !== null) {
        const start = n > this.pos && raw[n - 1] === CR ? n - 1 : n;
        this.part.bodySize += start - this.pos;
        return this.partFinish(b, false, start);
      }
    }
    this.part.bodySize += this.end - this.pos;
    this.pos = this.end;
    this.finishAll();
    return "done";
  }

  /** A delimiter line at `start` (including the CRLF before it unless firstLine). */
  private partFinish(b: Boundary, firstLine: boolean, start: number): State {
    while (this.part !== b.part) this.finish();
    this.boundaries = b.epilogueFound ? b.next : b;
    const raw = this.raw;
    let lineSize = firstLine ? 0 : raw[start] === CR ? 2 : 1;
    lineSize += 2 + b.bytes.length + (b.epilogueFound ? 2 : 0);
    const p = start + lineSize;
    let lf = raw.indexOf(LF, p);
    if (lf >= this.end) lf = -1;
    const next = lf === -1 ? this.end : lf + 1;
    this.part.bodySize += next - start;
    this.pos = next;
    if (lf === -1) {
      this.finishAll();
      return "done";
    }
    if (this.boundaries === null || this.boundaries.part !== this.part) {
      // Epilogue of this multipart.
      return this.boundaries !== null ? "to-boundary" : "to-eof";
    }
    this.append(F_IS_MIME);
    return "header";
  }
}

function newNode(parent: PartNode | null, headerStart: number): PartNode {
  return { parent, headerStart, headerSize: 0, bodySize: 0, flags: 0, fields: [], children: [] };
}

function startsWith(raw: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > raw.length) return false;
  for (let i = 0; i < prefix.length; i++) if (raw[at + i] !== prefix[i]) return false;
  return true;
}

/** Part flags from the first Content-Type; returns the boundary of a multipart. */
function contentTypeFlags(part: PartNode, value: string): string | null {
  const parser = new Rfc822Parser(value);
  parser.skipLwsp();
  const acc = new Acc();
  const ret = parser.parseContentType(acc);
  const ct = acc.v.toLowerCase();
  if (ct === "message/rfc822") part.flags |= F_RFC822;
  else if (ct.startsWith("text") && (ct.length === 4 || ct[4] === "/")) part.flags |= F_TEXT;
  else if (ct.startsWith("multipart/")) {
    part.flags |= F_MULTIPART;
    if (ct.slice(10) === "digest") part.flags |= F_DIGEST;
  }
  if (ret < 0 || (part.flags & F_MULTIPART) === 0) return null;
  for (const [key, val] of parseParams(parser)) {
    if (key.toLowerCase() === "boundary") return val.slice(0, BOUNDARY_STRING_MAX_LEN);
  }
  return null;
}

/** Parse the raw (already CRLF-normalised) message into a part tree. */
export function parseStructure(raw: Uint8Array): PartNode {
  return new StructureParser(raw).run();
}

interface PartData {
  contentType: ContentType | null;
  encoding: string | null;
  id: string | null;
  description: string | null;
  md5: string | null;
  location: string | null;
  language: string[] | null;
  disposition: { type: string; params: [string, string][] } | null;
}

/** The Content-* data of a part (message_part_data_parse_from_header). */
function partData(node: PartNode): PartData {
  const d: PartData = {
    contentType: null,
    encoding: null,
    id: null,
    description: null,
    md5: null,
    location: null,
    language: null,
    disposition: null,
  };
  if ((node.flags & F_IS_MIME) === 0) return d; // no MIME: Content-* fields are ignored
  for (const field of node.fields) {
    const name = field.name.toLowerCase();
    if (!name.startsWith("content-")) continue;
    switch (name.slice(8)) {
      case "id":
        d.id ??= field.value;
        break;
      case "md5":
        d.md5 ??= field.value;
        break;
      case "type":
        d.contentType ??= parseContentType(field.value);
        break;
      case "transfer-encoding":
        d.encoding ??= parseTransferEncoding(field.value);
        break;
      case "language":
        d.language ??= parseContentLanguage(field.value);
        break;
      case "location":
        d.location ??= field.value;
        break;
      case "description":
        d.description ??= field.value;
        break;
      case "disposition":
        // Dovecot only keeps the first disposition that has parameters.
        if (d.disposition === null || d.disposition.params.length === 0) {
          d.disposition = parseContentDisposition(field.value) ?? d.disposition;
        }
        break;
    }
  }
  return d;
}

function nullIfEmpty<T>(list: T[]): T[] | null {
  return list.length > 0 ? list : null;
}

/** Turn a parsed part tree into the public BodyPart shape. */
export function toBodyPart(raw: Uint8Array, node: PartNode): BodyPart {
  const counter = new LineCounter(raw);
  return convert(node, (start, end) => counter.lines(start, end));
}

function convert(node: PartNode, countLines: (start: number, end: number) => number): BodyPart {
  const d = partData(node);
  const bodyStart = node.headerStart + node.headerSize;
  const bodyEnd = bodyStart + node.bodySize;
  const ct = d.contentType;
  let type: string;
  let subtype: string;
  let params: [string, string][] | null;
  let lines: number | null = null;
  if ((node.flags & F_RFC822) !== 0) {
    type = ct?.type ?? "message";
    subtype = ct?.subtype ?? "rfc822";
    params = nullIfEmpty(ct?.params ?? []);
    lines = countLines(bodyStart, bodyEnd);
  } else if (ct === null) {
    type = "text";
    subtype = "plain";
    params = [["charset", "us-ascii"]];
    lines = countLines(bodyStart, bodyEnd);
  } else {
    type = ct.type;
    subtype = ct.subtype;
    const list = [...ct.params];
    if ((node.flags & F_MULTIPART) === 0 && equalsIgnoreCase(type, "text")) {
      if (!list.some(([k]) => equalsIgnoreCase(k, "charset"))) list.push(["charset", "us-ascii"]);
      lines = countLines(bodyStart, bodyEnd);
    }
    params = nullIfEmpty(list);
  }
  const part: BodyPart = {
    headerStart: node.headerStart,
    bodyStart,
    bodyEnd,
    type,
    subtype,
    params,
    id: d.id,
    description: d.description,
    encoding: d.encoding ?? "7bit",
    size: node.bodySize,
    lines,
    md5: d.md5,
    disposition:
      d.disposition === null ? null : { type: d.disposition.type, params: nullIfEmpty(d.disposition.params) },
    language: d.language,
    location: d.location,
  };
  if ((node.flags & F_MULTIPART) !== 0) {
    part.parts = node.children.map((child) => convert(child, countLines));
  } else if ((node.flags & F_RFC822) !== 0) {
    const child = node.children[0]!;
    part.message = {
      headerSize: child.headerSize,
      envelope: buildEnvelope(child.fields),
      body: convert(child, countLines),
    };
  }
  return part;
}
