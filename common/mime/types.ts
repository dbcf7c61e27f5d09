/**
 * The shapes of the MIME index. Plain data only, so that a MessageIndex survives
 * JSON.stringify/JSON.parse unchanged (it is stored in a database column).
 *
 * Every string that comes from message octets is a binary string: one char per octet
 * (U+0000..U+00FF, i.e. latin1 decoding). See common/mime/index.ts.
 */

import type { Address } from "./address.ts";
import type { Envelope } from "./envelope.ts";

export type { Address, Envelope };

export type MessageIndex = {
  /** raw.length */
  size: number;
  /** Octets of the top-level header including the empty line after it (= body offset). */
  headerSize: number;
  envelope: Envelope;
  /** Top-level part tree. */
  body: BodyPart;
};

export type BodyPart = {
  /** Offset of this part's MIME header (for an encapsulated message: its RFC 5322 header). */
  headerStart: number;
  /** Offset where the header ends and the body begins (= BODY[n.MIME] end). */
  bodyStart: number;
  /** Offset where the body ends (= BODY[n] end). */
  bodyEnd: number;
  /**
   * Content type and subtype as written. A part without Content-Type is "text"/"plain"
   * (or "message"/"rfc822" inside multipart/digest); an unparseable one is ""/"".
   */
  type: string;
  subtype: string;
  /**
   * Parameters exactly as BODYSTRUCTURE lists them: header order, duplicates kept, and
   * for text parts ("text" in any case, or no Content-Type) a trailing
   * ["charset", "us-ascii"] when no charset was given. Null when there are none.
   */
  params: [string, string][] | null;
  id: string | null;
  description: string | null;
  /** Content-Transfer-Encoding token as written, "7bit" when absent or unparseable. */
  encoding: string;
  /** Body octets (bodyEnd - bodyStart). */
  size: number;
  /** Body line count (LF octets) for text and message/rfc822 parts, else null. */
  lines: number | null;
  md5: string | null;
  disposition: { type: string; params: [string, string][] | null } | null;
  language: string[] | null;
  location: string | null;
  /**
   * Present only on non-multipart parts whose encoding is base64 or quoted-printable: the
   * body size after undoing the transfer encoding (IMAP BINARY.SIZE, RFC 3516). See
   * transfer-decoding.ts for how malformed encodings are decoded.
   */
  decodedSize?: number;
  /** Present on multipart parts (possibly empty: a multipart without any body part). */
  parts?: BodyPart[];
  /** Present on message/rfc822 parts: the encapsulated message. */
  message?: { headerSize: number; envelope: Envelope; body: BodyPart };
};
