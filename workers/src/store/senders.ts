/**
 * Which envelope senders an authenticated account may use (RFC 6409 §4.3: a submission server
 * may refuse a MAIL FROM the user is not entitled to).
 *
 * Callers may rely on: allowed are the null reverse-path "" (bounces and other auto-replies),
 * the account's own address and its plus-addresses (with its domain's delimiters, none when the
 * domain turned plus-addressing off), case-insensitively; an account literally named
 * `user+tag@domain` owns that address, not `user@domain`; an alias (and its plus-addresses) whose
 * targets name the account directly. Postmaster and the catch-all do not count
 * (store/addressing.ts ownsAddress). An unknown account id is allowed nothing.
 */
import type { Db } from "./db.ts";
import { ownsAddress } from "./addressing.ts";

export async function senderAllowed(db: Db, accountId: number, address: string): Promise<boolean> {
  const wanted = address.trim().replace(/^<(.*)>$/, "$1").trim().toLowerCase();
  if (wanted === "") return true;
  if (!/^[^\s@<>]+@[^\s@<>]+$/.test(wanted)) return false;
  return ownsAddress(db, accountId, wanted);
}
