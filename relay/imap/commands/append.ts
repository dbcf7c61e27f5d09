/**
 * APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502), UIDPLUS's APPENDUID (RFC 4315),
 * literal8 (RFC 3516: the octets are taken as they come), the UTF8 data item (RFC 6855 §4)
 * and APPENDLIMIT (RFC 7889).
 *
 *   APPEND mailbox 1*( [SP flag-list] [SP date-time] SP (literal / literal8 / "UTF8" SP "(" literal8 ")") )
 *
 * Accepted means stored (DESIGN.md §2): the tagged OK is sent only after the edge committed
 * every message. Each message goes the way an SMTP delivery goes: line endings normalised,
 * the MIME index (and, when common/mime/search-fields.ts is there, the search fields)
 * computed here, the octets put as a content-addressed blob, then one `append` call stores
 * all messages of the command in one transaction — all of them or none (RFC 3502 §6).
 *
 * What a client may rely on:
 * - OK [APPENDUID uidvalidity uids] with the new UIDs in message order;
 * - a mailbox that does not exist → NO [TRYCREATE]; over quota → NO [OVERQUOTA]; a message
 *   above APPENDLIMIT (after CRLF normalisation) → NO [TOOBIG]; nothing is stored then;
 * - \Recent among the flags is ignored (no client may set it); other unknown system flags,
 *   malformed keywords and a malformed date-time are BAD;
 * - appending to the selected mailbox reports the new messages (EXISTS) before the tagged OK.
 */
import { createHash } from "node:crypto";
import { SearchFields, type AppendRequest } from "../../../common/contract.ts";
import { indexMessage, normalizeLineEndings, type MessageIndex } from "../../../common/mime/index.ts";
import type { ImapConnection } from "../connection.ts";
import { mailboxNameFromWire, utf8MailboxNames } from "../mailbox-names.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import type { Args, Token } from "../protocol/parser.ts";
import { reportMailboxChanges } from "./changes.ts";
import { edgeCall } from "./edge-errors.ts";
import { principalOf } from "./state.ts";
import type { CommandSpec } from "./types.ts";
import { uidList } from "./uid-list.ts";

/** The contract's limit on messages per append call. */
const MAX_MESSAGES_PER_APPEND = 1000;

const SYSTEM_FLAGS = new Map(["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"].map((f) => [f.toLowerCase(), f]));
const KEYWORD = /^[!#$&'+-[^-z|~]{1,128}$/;

interface IncomingMessage {
  flags: string[];
  internalDate: number | undefined;
  raw: Buffer;
}

// ---- arguments --------------------------------------------------------------------------

function parseFlags(tokens: readonly Token[]): string[] {
  const flags: string[] = [];
  for (const token of tokens) {
    if (token.type !== "atom") throw new ImapProtocolError("BAD", "Flags must be atoms");
    const value = token.value;
    let flag: string;
    if (value.startsWith("\\")) {
      if (value.toLowerCase() === "\\recent") continue;
      const system = SYSTEM_FLAGS.get(value.toLowerCase());
      if (!system) throw new ImapProtocolError("BAD", `Unknown system flag ${value.slice(0, 30)}`);
      flag = system;
    } else {
      if (!KEYWORD.test(value)) throw new ImapProtocolError("BAD", `Invalid keyword ${value.slice(0, 30)}`);
      flag = value;
    }
    if (!flags.includes(flag)) flags.push(flag);
  }
  return flags;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DATE_TIME = /^([ 0-9][0-9])-([A-Za-z]{3})-([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})$/;

/** RFC 9051 `date-time` without its quotes, as ms since the epoch; null when it is not one. */
export function parseDateTime(text: string): number | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const field = (i: number): number => Number(m[i]!.trim());
  const [day, year, hour, minute, second, zh, zm] = [field(1), field(3), field(4), field(5), field(6), field(8), field(9)] as const;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  if (month < 0 || day < 1 || hour > 23 || minute > 59 || second > 60 || zh > 23 || zm > 59) return null;
  const local = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  if (new Date(local).getUTCDate() !== day) return null; // 31-Feb and the like
  const offset = (zh * 60 + zm) * 60_000 * (m[7] === "-" ? -1 : 1);
  return local - offset;
}

function isDateTimeToken(token: Token | undefined): token is { type: "string"; value: Buffer } {
  return token?.type === "string" && !token.binary && token.value.length === 26 && parseDateTime(token.value.toString("latin1")) !== null;
}

/** A short string starting like a date, followed by more: a date-time gone wrong, not a message. */
function looksLikeDateTime(token: Token | undefined): boolean {
  return token?.type === "string" && !token.binary && token.value.length <= 40 && /^[ 0-9]{1,2}-/.test(token.value.toString("latin1"));
}

function readMessages(conn: ImapConnection, args: Args): IncomingMessage[] {
  const messages: IncomingMessage[] = [];
  while (args.remaining() > 0) {
    const flagTokens = args.optionalList();
    const flags = flagTokens ? parseFlags(flagTokens) : [];
    let internalDate: number | undefined;
    // A date-time is a quoted string too: it is one when a message still follows it.
    if (args.remaining() >= 2 && isDateTimeToken(args.peek())) {
      internalDate = parseDateTime(args.string().toString("latin1"))!;
    } else if (args.remaining() >= 2 && looksLikeDateTime(args.peek())) {
      throw new ImapProtocolError("BAD", "Invalid date-time");
    }
    let raw: Buffer;
    if (args.peekAtom() === "UTF8") {
      args.atom();
      if (!utf8MailboxNames(conn)) throw new ImapProtocolError("BAD", "UTF8 data needs ENABLE UTF8=ACCEPT first");
      const inner = args.list("(literal8)");
      const data = inner[0];
      if (inner.length !== 1 || data?.type !== "string") throw new ImapProtocolError("BAD", "UTF8 takes one literal8 in parentheses");
      raw = data.value;
    } else {
      raw = args.string("a message literal");
    }
    messages.push({ flags, internalDate, raw });
  }
  if (messages.length === 0) throw new ImapProtocolError("BAD", "APPEND needs a message");
  return messages;
}

// ---- search fields (written by a colleague; optional until it lands) ----------------------

type ComputeSearchFields = (raw: Uint8Array, index: MessageIndex) => unknown;

let searchFieldsModule: Promise<ComputeSearchFields | null> | null = null;

/** computeSearchFields from common/mime/search-fields.ts, or null while that module does not exist. */
function searchFieldsComputer(): Promise<ComputeSearchFields | null> {
  searchFieldsModule ??= import(new URL("../../../common/mime/search-fields.ts", import.meta.url).href).then(
    (mod: { computeSearchFields?: unknown }) =>
      typeof mod.computeSearchFields === "function" ? (mod.computeSearchFields as ComputeSearchFields) : null,
    () => null,
  );
  return searchFieldsModule;
}

/** The search fields of a message, or undefined (it is then found by non-text keys only). */
function searchFieldsOf(compute: ComputeSearchFields | null, raw: Uint8Array, index: MessageIndex): SearchFields | undefined {
  if (!compute) return undefined;
  try {
    const parsed = SearchFields.safeParse(compute(raw, index));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

// ---- the command ----------------------------------------------------------------------------

export const append: CommandSpec = {
  states: ["authenticated", "selected"],
  async run({ args, conn }) {
    const name = mailboxNameFromWire(conn, args.astring("a mailbox name"));
    const incoming = readMessages(conn, args);
    args.end();
    if (incoming.length > MAX_MESSAGES_PER_APPEND) {
      throw new ImapProtocolError("NO", `At most ${MAX_MESSAGES_PER_APPEND} messages per APPEND`, { code: "LIMIT" });
    }
    const { accountId } = principalOf(conn);
    const compute = await searchFieldsComputer();
    const messages: AppendRequest["messages"] = [];
    for (const message of incoming) {
      const stored = Buffer.from(normalizeLineEndings(message.raw));
      if (stored.length > conn.limits.maxLiteralSize) {
        throw new ImapProtocolError("NO", `Message is larger than the limit of ${conn.limits.maxLiteralSize} octets`, { code: "TOOBIG" });
      }
      const index = indexMessage(stored);
      const sha256 = createHash("sha256").update(stored).digest("hex");
      const blob = await edgeCall(conn.store.putBlob(sha256, stored));
      const search = searchFieldsOf(compute, stored, index);
      messages.push({
        blob,
        index,
        flags: message.flags,
        ...(search ? { search } : {}),
        ...(message.internalDate !== undefined ? { internalDate: message.internalDate } : {}),
      });
    }
    const result = await edgeCall(conn.store.append(accountId, { name, messages }), { target: true });
    conn.changes.publish({ accountId, mailboxId: result.mailboxId });
    const state = conn.state;
    if (state.kind === "selected" && state.view.mailbox.id === result.mailboxId) await reportMailboxChanges(conn);
    return { text: "Append completed.", code: `APPENDUID ${result.uidvalidity} ${uidList(result.uids)}` };
  },
};
