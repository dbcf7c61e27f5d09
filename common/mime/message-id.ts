/**
 * msg-id extraction for THREAD (RFC 5256 §2.2 REFERENCES) from Message-ID, In-Reply-To and
 * References field bodies (binary strings). Like Dovecot's message_id_get_next: every
 * `<...>` that contains an "@" is an id; anything else (comments, phrases, `<>` without "@")
 * is garbage and skipped. The id is returned WITHOUT its angle brackets, with white space
 * (folding) removed, 8-bit octets read as UTF-8 or latin1.
 */

import { binaryToBytes } from "./bytes.ts";
import { decodeUtf8OrLatin1 } from "./charset.ts";

const MAX_ID_LENGTH = 998;

/** The msg-ids of a field body in order (at most `limit`, the first ones). */
export function messageIds(value: string, limit = Infinity): string[] {
  const ids: string[] = [];
  let i = 0;
  while (ids.length < limit) {
    const lt = value.indexOf("<", i);
    if (lt === -1) break;
    const gt = value.indexOf(">", lt + 1);
    if (gt === -1) break;
    const inner = value.slice(lt + 1, gt);
    const nested = inner.lastIndexOf("<");
    if (nested !== -1) {
      i = lt + 1 + nested; // "<garbage <id@host>": start again at the inner "<"
      continue;
    }
    i = gt + 1;
    const id = inner.replace(/[ \t\r\n]+/g, "");
    const at = id.indexOf("@");
    if (at <= 0 || at === id.length - 1 || id.length > MAX_ID_LENGTH || /[\x00-\x1f\x7f]/.test(id)) continue;
    ids.push(/[\x80-\xff]/.test(id) ? decodeUtf8OrLatin1(binaryToBytes(id)) : id);
  }
  return ids;
}
