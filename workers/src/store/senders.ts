/**
 * Which envelope senders an authenticated account may use (RFC 6409 §4.3: a submission server
 * may refuse a MAIL FROM the user is not entitled to).
 *
 * Callers may rely on: allowed are the null reverse-path "" (bounces and other auto-replies),
 * the account's own address and its plus-addresses (`user+tag@domain`), case-insensitively; the
 * answer for a plus-address follows recipient resolution (store/accounts.ts), so an account
 * literally named `user+tag@domain` owns that address, not `user@domain`. An unknown account
 * id is allowed nothing. Aliases are not considered yet.
 */
import type { Db } from "./db.ts";
import { resolveRecipients } from "./accounts.ts";

export async function senderAllowed(db: Db, accountId: number, address: string): Promise<boolean> {
  const wanted = address.trim().replace(/^<(.*)>$/, "$1").trim().toLowerCase();
  if (wanted === "") return true;
  if (!/^[^\s@<>]+@[^\s@<>]+$/.test(wanted)) return false;
  const hit = (await resolveRecipients(db, [wanted])).get(wanted);
  return hit?.accountId === accountId;
}
