/**
 * SearchFields (common/contract.ts): what SEARCH, SORT and THREAD need of a message, computed
 * once at ingest from the raw (normalised) octets and their MIME index, so the edge only
 * compares strings. Pure TypeScript on Uint8Array and TextDecoder: runs in Node and workerd.
 *
 * - headers: every field of the top-level header, by lower-case name (`Name : value` is
 *   `name`), values in message order; each value unfolded, RFC 2047 words decoded, raw 8-bit
 *   read as UTF-8 when valid else latin1 (encoded-words.ts), then foldForSearch. A value is
 *   cut at 64 Ki UTF-16 units, and all values together at 1 Mi: past that a field only
 *   records its presence (one ""). A field named `__proto__` is left out (it cannot be a
 *   plain-object key safely); so are names over 200 characters (no HEADER key can name them).
 * - body: the decoded text of every text/* part and, like Dovecot's SEARCH BODY, of every
 *   other message/* leaf (message/delivery-status, message/global: their content is text);
 *   parts of encapsulated messages are visited, their headers are not body. A message/rfc822
 *   part with a base64/quoted-printable encoding (RFC 2046 forbids it, oracle 057) is decoded
 *   and parsed again. Transfer encoding and charset are decoded (charset.ts); text/html is
 *   kept as is, tags and all (as Dovecot, which finds words in markup too). CRLF becomes LF,
 *   parts are joined with "\n", the result is folded and cut at 1 MiB (UTF-16 units).
 *   Multipart preambles and epilogues are not body (Dovecot skips them too).
 * - sentDate / sentAt: the FIRST Date field (as Dovecot's sent date), see date.ts.
 * - sort: RFC 5256 base subject of the first Subject field, folded; from/to/cc: the
 *   addr-mailbox of the first address (group markers skipped) of the first From/To/Cc field
 *   with one, folded ("" when none); displayFrom/displayTo (RFC 5957): that address's decoded
 *   display name, else its addr-spec, folded.
 * - thread: msg-ids without angle brackets (message-id.ts): the first of the first
 *   Message-ID and In-Reply-To fields, and all of the first References field (the last 1000
 *   when there are more: the nearest ancestors matter most); isReply: whether the first
 *   Subject field (decoded as for sort) was a reply or forward (base-subject.ts).
 *
 * Never throws: each part of the result falls back to its empty value if anything goes wrong.
 */

import type { SearchFields } from "../contract.ts";
import { foldForSearch } from "../search.ts";
import type { Address } from "./address.ts";
import { parseAddressList } from "./address.ts";
import { baseSubject, subjectIsReply } from "./base-subject.ts";
import { binaryToBytes, equalsIgnoreCase } from "./bytes.ts";
import { decodeCharset, decodeUtf8OrLatin1 } from "./charset.ts";
import { parseMessageDate } from "./date.ts";
import { decodeHeaderText, unfold } from "./encoded-words.ts";
import { parseHeaderBlock, type HeaderField } from "./headers.ts";
import { normalizeLineEndings } from "./lines.ts";
import { messageIds } from "./message-id.ts";
import { parseStructure, toBodyPart } from "./structure.ts";
import { decodeTransfer, transferKind } from "./transfer-decoding.ts";
import type { BodyPart, MessageIndex } from "./types.ts";

/** Longest header field value kept, in UTF-16 units after folding. */
export const FIELD_VALUE_MAX = 64 * 1024;
/** All header values together. */
export const HEADERS_TOTAL_MAX = 1024 * 1024;
/** SearchFields.body limit (the contract's). */
export const BODY_MAX = 1024 * 1024;
const FIELD_RAW_MAX = 256 * 1024;
const NAME_MAX = 200;
const REFERENCES_MAX = 1000;
const MAX_DEPTH = 120;
const MAX_REPARSE = 8;

export interface SearchFieldsOptions {
  /** Rethrow instead of falling back to empty values (for tests: shows what a fallback hides). */
  strict?: boolean;
}

/** Never throws on any octets. `index` is indexMessage(raw). */
export function computeSearchFields(raw: Uint8Array, index: MessageIndex, options: SearchFieldsOptions = {}): SearchFields {
  const guard = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (error) {
      if (options.strict === true) throw error;
      return fallback;
    }
  };
  const fields = guard(() => topLevelFields(raw, index), []);
  const date = guard(() => {
    const field = firstField(fields, "date");
    return field === null ? null : parseMessageDate(unfold(field.value));
  }, null);
  return {
    headers: guard(() => headerMap(fields), {}),
    body: guard(() => bodyText(raw, index), ""),
    sentDate: date?.date ?? null,
    sentAt: date?.at ?? null,
    sort: guard(() => sortKeys(fields), {
      subject: "",
      from: "",
      to: "",
      cc: "",
      displayFrom: "",
      displayTo: "",
    }),
    thread: guard(() => threadKeys(fields), { messageId: null, inReplyTo: null, references: [], isReply: false }),
  };
}

/** Cut at `max` UTF-16 units without splitting a surrogate pair. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = Math.max(0, max);
  if (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end--;
  }
  return s.slice(0, end);
}

function decodeBinary(s: string): string {
  return /[\x80-\xff]/.test(s) ? decodeUtf8OrLatin1(binaryToBytes(s)) : s;
}

// ---- header ---------------------------------------------------------------------------

function topLevelFields(raw: Uint8Array, index: MessageIndex): HeaderField[] {
  const size = index?.headerSize;
  const end = typeof size === "number" && size >= 0 && size <= raw.length ? size : raw.length;
  return parseHeaderBlock(raw, 0, end).fields;
}

function firstField(fields: readonly HeaderField[], name: string): HeaderField | null {
  return fields.find((f) => equalsIgnoreCase(f.name, name)) ?? null;
}

/** Decoded, folded field value, at most `max` units. */
function headerValue(value: string, max: number): string {
  return clip(foldForSearch(decodeHeaderText(value.slice(0, FIELD_RAW_MAX))), max);
}

function headerMap(fields: readonly HeaderField[]): Record<string, string[]> {
  const map = new Map<string, string[]>();
  let budget = HEADERS_TOTAL_MAX;
  for (const field of fields) {
    const name = decodeBinary(field.name).trim().toLowerCase();
    if (name.length > NAME_MAX || name === "__proto__") continue;
    let values = map.get(name);
    if (values === undefined) {
      values = [];
      map.set(name, values);
    }
    if (budget <= 0) {
      if (values.length === 0) values.push("");
      continue;
    }
    const value = headerValue(field.value, Math.min(FIELD_VALUE_MAX, budget));
    budget -= value.length;
    values.push(value);
  }
  return Object.fromEntries(map);
}

// ---- body -----------------------------------------------------------------------------

function charsetOf(part: BodyPart): string | null {
  for (const [key, value] of part.params ?? []) if (equalsIgnoreCase(key, "charset")) return value;
  return null;
}

function bodyOf(data: Uint8Array, part: BodyPart): Uint8Array {
  const start = Math.max(0, Math.min(part.bodyStart, data.length));
  const end = Math.max(start, Math.min(part.bodyEnd, data.length));
  return data.subarray(start, end);
}

function bodyText(raw: Uint8Array, index: MessageIndex): string {
  const texts: string[] = [];
  let size = 0;
  let reparsed = 0;

  const visit = (data: Uint8Array, part: BodyPart, depth: number): void => {
    if (size >= BODY_MAX || depth > MAX_DEPTH) return;
    if (part.parts !== undefined) {
      for (const child of part.parts) visit(data, child, depth + 1);
      return;
    }
    if (part.message !== undefined) {
      if (transferKind(part.encoding) === null) {
        visit(data, part.message.body, depth + 1);
      } else if (reparsed < MAX_REPARSE) {
        // An encoded message/rfc822 (057): the index parsed the encoded text; parse the decoded one.
        reparsed++;
        const inner = normalizeLineEndings(decodeTransfer(bodyOf(data, part), part.encoding));
        visit(inner, toBodyPart(inner, parseStructure(inner)), depth + 1);
      }
      return;
    }
    const type = part.type.toLowerCase();
    if (type !== "text" && type !== "message") return;
    const remaining = BODY_MAX - size;
    let encoded = bodyOf(data, part);
    if (encoded.length > remaining * 12 + 1024) encoded = encoded.subarray(0, remaining * 12 + 1024);
    let bytes = decodeTransfer(encoded, part.encoding);
    if (bytes.length > remaining * 4 + 16) {
      let cut = remaining * 4 + 16;
      while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--; // keep UTF-8 sequences whole
      bytes = bytes.subarray(0, cut);
    }
    const text = decodeCharset(bytes, charsetOf(part)).replace(/\r\n/g, "\n");
    texts.push(text);
    size += text.length + 1;
  };

  visit(raw, index.body, 0);
  return clip(foldForSearch(texts.join("\n")), BODY_MAX);
}

// ---- sort and thread ------------------------------------------------------------------

const PLACEHOLDER_HOSTS = new Set(["MISSING_DOMAIN", "SYNTAX_ERROR"]);

/** The first real address (not a group marker) of the first `name` field that has one. */
function firstAddress(fields: readonly HeaderField[], name: string): Address | null {
  for (const field of fields) {
    if (!equalsIgnoreCase(field.name, name)) continue;
    const list = parseAddressList(field.value.slice(0, FIELD_RAW_MAX));
    const address = list?.find((a) => a.host !== null);
    if (address !== undefined) return address;
  }
  return null;
}

function mailboxOf(address: Address | null): string {
  const mailbox = address?.mailbox ?? null;
  return mailbox === null || mailbox === "MISSING_MAILBOX" ? "" : decodeBinary(mailbox);
}

function displayOf(address: Address | null): string {
  if (address === null) return "";
  const name = address.name === null ? "" : decodeHeaderText(address.name).trim();
  if (name !== "") return clip(foldForSearch(name), FIELD_VALUE_MAX);
  const mailbox = mailboxOf(address);
  const host = address.host === null || PLACEHOLDER_HOSTS.has(address.host) ? "" : decodeBinary(address.host);
  return clip(foldForSearch(host === "" ? mailbox : `${mailbox}@${host}`), FIELD_VALUE_MAX);
}

/** The first Subject field with its encoded words decoded (RFC 5256 §2.1 step 1), null when none. */
function decodedSubject(fields: readonly HeaderField[]): string | null {
  const subject = firstField(fields, "subject");
  return subject === null ? null : decodeHeaderText(subject.value.slice(0, FIELD_RAW_MAX));
}

function sortKeys(fields: readonly HeaderField[]): SearchFields["sort"] {
  const subject = decodedSubject(fields);
  const from = firstAddress(fields, "from");
  const to = firstAddress(fields, "to");
  const cc = firstAddress(fields, "cc");
  return {
    subject: subject === null ? "" : clip(foldForSearch(baseSubject(subject)), FIELD_VALUE_MAX),
    from: clip(foldForSearch(mailboxOf(from)), FIELD_VALUE_MAX),
    to: clip(foldForSearch(mailboxOf(to)), FIELD_VALUE_MAX),
    cc: clip(foldForSearch(mailboxOf(cc)), FIELD_VALUE_MAX),
    displayFrom: displayOf(from),
    displayTo: displayOf(to),
  };
}

function threadKeys(fields: readonly HeaderField[]): SearchFields["thread"] {
  const first = (name: string): string | null => {
    const field = firstField(fields, name);
    return field === null ? null : (messageIds(field.value, 1)[0] ?? null);
  };
  const references = firstField(fields, "references");
  return {
    messageId: first("message-id"),
    inReplyTo: first("in-reply-to"),
    references: references === null ? [] : messageIds(references.value).slice(-REFERENCES_MAX),
    isReply: subjectIsReply(decodedSubject(fields) ?? ""),
  };
}
