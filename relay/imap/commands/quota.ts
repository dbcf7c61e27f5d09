/**
 * QUOTA (RFC 9208) with the one resource we account, STORAGE (QUOTA=RES-STORAGE): the sum of
 * the account's message sizes, in units of 1024 octets. Every mailbox of an account shares
 * one quota root, "". The limit is set by the administrator (admin API), never by SETQUOTA.
 *
 * What a client may rely on:
 * - GETQUOTAROOT mailbox → `* QUOTAROOT mailbox ""` and `* QUOTA "" (STORAGE used limit)`;
 *   an account without a limit has no quota root (`* QUOTAROOT mailbox` alone), since a
 *   QUOTA response must name a limit; a mailbox that does not exist → NO [NONEXISTENT];
 * - GETQUOTA "" → the QUOTA response; any other root (or no limit) → NO [NONEXISTENT];
 * - usage is rounded up and the limit down to whole KiB, so "used < limit" never hides a full
 *   account;
 * - SETQUOTA → NO [NOPERM].
 */
import type { QuotaResult } from "../../../common/contract.ts";
import { mailboxNameFromWire, mailboxNameToWire } from "../mailbox-names.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import { untagged, untaggedParts } from "../protocol/writer.ts";
import { edgeCall } from "./edge-errors.ts";
import { principalOf } from "./state.ts";
import type { CommandSpec } from "./types.ts";

function quotaLine(quota: QuotaResult & { limit: number }): Buffer {
  return untagged(`QUOTA "" (STORAGE ${Math.ceil(quota.usage / 1024)} ${Math.floor(quota.limit / 1024)})`);
}

function hasLimit(quota: QuotaResult): quota is QuotaResult & { limit: number } {
  return quota.limit !== null;
}

export const getQuotaRoot: CommandSpec = {
  states: ["authenticated", "selected"],
  async run({ args, conn }) {
    const name = mailboxNameFromWire(conn, args.astring("a mailbox name"));
    args.end();
    const { accountId } = principalOf(conn);
    const [quota, list] = await Promise.all([edgeCall(conn.store.quota(accountId)), edgeCall(conn.store.listMailboxes(accountId))]);
    if (!list.mailboxes.some((m) => m.name === name)) throw new ImapProtocolError("NO", "Mailbox does not exist", { code: "NONEXISTENT" });
    const limited = hasLimit(quota);
    await conn.send(untaggedParts(["QUOTAROOT ", mailboxNameToWire(conn, name), limited ? ' ""' : ""]));
    if (limited) await conn.send(quotaLine(quota));
    return { text: "Getquotaroot completed." };
  },
};

export const getQuota: CommandSpec = {
  states: ["authenticated", "selected"],
  async run({ args, conn }) {
    const root = args.astring("a quota root").toString("utf8");
    args.end();
    const { accountId } = principalOf(conn);
    const quota = root === "" ? await edgeCall(conn.store.quota(accountId)) : null;
    if (!quota || !hasLimit(quota)) throw new ImapProtocolError("NO", "No such quota root", { code: "NONEXISTENT" });
    await conn.send(quotaLine(quota));
    return { text: "Getquota completed." };
  },
};

export const setQuota: CommandSpec = {
  states: ["authenticated", "selected"],
  async run() {
    throw new ImapProtocolError("NO", "Quotas are set by the administrator", { code: "NOPERM" });
  },
};
