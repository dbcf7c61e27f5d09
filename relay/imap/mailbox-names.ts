/**
 * Mailbox names between the wire and the edge. The edge knows names only as UTF-8 text with
 * "/" as the hierarchy delimiter; on the wire an IMAP4rev1 session spells them in modified
 * UTF-7 (RFC 3501 §5.1.3), a session that enabled UTF8=ACCEPT (RFC 6855) or IMAP4rev2
 * (RFC 9051 §5.1) in UTF-8.
 *
 * Callers may rely on:
 * - `mailboxNameFromWire` returns the name as the edge stores it: decoded, in Unicode NFC
 *   (RFC 9051 §5.1 lets a server normalise), with "INBOX" as the first level upper-cased
 *   whatever case the client used (INBOX is case-insensitive, RFC 9051 §5.1); a name that is
 *   not valid in the session's encoding throws ImapProtocolError BAD [CLIENTBUG];
 * - `mailboxNameToWire` returns the astring to put in a response (atom, quoted or literal);
 * - `checkNewMailboxName` is the one rule for names a client may create (CREATE, RENAME).
 */
import type { ImapConnection } from "./connection.ts";
import { ImapProtocolError } from "./protocol/errors.ts";
import { decodeMutf7, encodeMutf7, Mutf7Error } from "./protocol/mutf7.ts";
import { astring } from "./protocol/strings.ts";

export const HIERARCHY_DELIMITER = "/";

/** The longest name the edge accepts (contract: MailboxName). */
export const MAX_MAILBOX_NAME_LENGTH = 1000;

type Session = Pick<ImapConnection, "enabled">;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** True when this session spells mailbox names in UTF-8 rather than modified UTF-7. */
export function utf8MailboxNames(conn: Session): boolean {
  return conn.enabled.has("UTF8=ACCEPT") || conn.enabled.has("IMAP4REV2");
}

/** Upper-cases a first level spelled "inbox" in any case: "inbox" → "INBOX", "Inbox/a" → "INBOX/a". */
export function canonicalMailboxName(name: string): string {
  if (name.length >= 5 && name.slice(0, 5).toUpperCase() === "INBOX" && (name.length === 5 || name[5] === HIERARCHY_DELIMITER)) {
    return "INBOX" + name.slice(5);
  }
  return name;
}

/** Decodes wire octets to text, or null when they are not valid in the session's encoding. */
export function decodeWireName(conn: Session, bytes: Uint8Array): string | null {
  try {
    const text = utf8MailboxNames(conn) ? utf8.decode(bytes) : decodeMutf7(bytes);
    return text.normalize("NFC");
  } catch (err) {
    if (err instanceof Mutf7Error || err instanceof TypeError) return null;
    throw err;
  }
}

/** A mailbox name argument as the edge knows it. Throws BAD [CLIENTBUG] when it cannot be decoded. */
export function mailboxNameFromWire(conn: Session, bytes: Uint8Array): string {
  const text = decodeWireName(conn, bytes);
  if (text === null) {
    throw new ImapProtocolError(
      "BAD",
      utf8MailboxNames(conn) ? "Mailbox name is not valid UTF-8" : "Mailbox name is not valid modified UTF-7",
      { code: "CLIENTBUG" },
    );
  }
  return canonicalMailboxName(text);
}

/** The wire spelling of a name, before string encoding. */
export function wireSpelling(conn: Session, name: string): string {
  return utf8MailboxNames(conn) ? name : encodeMutf7(name);
}

/**
 * A name as an astring for a response (`* LIST (...) "/" <here>`). In a UTF-8 session a
 * name with 8-bit characters goes out as a quoted string (RFC 9051 and RFC 6855 allow UTF-8
 * in quoted strings) unless it holds `"` or `\`; otherwise as astring() decides.
 */
export function mailboxNameToWire(conn: Session, name: string): Buffer {
  if (utf8MailboxNames(conn) && /[^\x00-\x7f]/.test(name) && !/["\\\x00-\x1f\x7f]/.test(name)) {
    return Buffer.from(`"${name}"`, "utf8");
  }
  return astring(wireSpelling(conn, name));
}

/**
 * The name CREATE or RENAME should make of `name` (already decoded): a trailing delimiter is
 * dropped (RFC 9051 §6.3.4). Throws NO [CANNOT] for names no mailbox may have: empty levels,
 * the wildcards `%` and `*`, and characters RFC 6855 §3 excludes from mailbox names (C0 and
 * C1 controls, DEL, U+2028, U+2029).
 */
export function checkNewMailboxName(name: string): string {
  let result = name;
  if (result.endsWith(HIERARCHY_DELIMITER)) result = result.slice(0, -1);
  const fail = (text: string): never => {
    throw new ImapProtocolError("NO", text, { code: "CANNOT" });
  };
  if (result.length === 0) fail("Mailbox name is empty");
  if (result.length > MAX_MAILBOX_NAME_LENGTH) fail("Mailbox name is too long");
  if (result.split(HIERARCHY_DELIMITER).some((level) => level.length === 0)) fail("Mailbox name has an empty hierarchy level");
  if (/[%*]/.test(result)) fail("Mailbox name may not contain % or *");
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(result)) fail("Mailbox name contains a character that is not allowed");
  return canonicalMailboxName(result);
}

/** The names of a mailbox's ancestors, nearest last: "a/b/c" → ["a", "a/b"]. */
export function ancestorsOf(name: string): string[] {
  const out: string[] = [];
  let i = name.indexOf(HIERARCHY_DELIMITER);
  while (i >= 0) {
    out.push(name.slice(0, i));
    i = name.indexOf(HIERARCHY_DELIMITER, i + 1);
  }
  return out;
}

/** True when `name` is `ancestor` itself or lies below it. */
export function isSameOrBelow(name: string, ancestor: string): boolean {
  return name === ancestor || name.startsWith(ancestor + HIERARCHY_DELIMITER);
}
