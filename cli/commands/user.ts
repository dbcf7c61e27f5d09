/**
 * `edgemail user …`: accounts (mailbox owners), their passwords and storage quotas.
 *
 * Callers may rely on: a password the CLI generates (`add` or `passwd` without --password) is
 * 144 random bits, printed exactly once (stdout, or the `password` field under --json) and never
 * stored anywhere by the CLI; sizes are 1024-based (500M, 2G) and `none` lifts a quota.
 * `remove` deletes the account with all its mail: it asks first only when stdin is a terminal
 * and --yes was not given, so scripts (no terminal) are never stopped by a question.
 */
import { randomBytes } from "node:crypto";
import type { Account } from "../../common/contract.ts";
import { seg } from "../admin-client.ts";
import { parseCommand, parseSize } from "../args.ts";
import type { CommandGroup } from "../command.ts";
import { emit, formatBytes, paint, table } from "../output.ts";

/** 18 octets = 144 bits, 24 characters of base64url: strong, and safe to paste into any client. */
const generatePassword = () => randomBytes(18).toString("base64url");

function quotaArg(text: string, what: string): number | null {
  return text === "none" ? null : parseSize(text, what);
}

export const userGroup: CommandGroup = {
  summary: "accounts, their passwords and quotas",
  commands: {
    add: {
      usage: [
        "usage: edgemail user add <address> [--password P] [--quota SIZE]",
        "  without --password a strong one is generated and printed once",
        "  --quota  storage limit, 1024-based: 500M, 2G (default: none)",
      ].join("\n"),
      async run(ctx, args) {
        const { values, positionals } = parseCommand(args, { password: { type: "string" }, quota: { type: "string" } }, { min: 1, max: 1, names: "an address" });
        const quota = values.quota === undefined ? undefined : quotaArg(values.quota, "--quota");
        const password = values.password ?? generatePassword();
        const client = await ctx.client();
        const account = await client.call<Account>("POST", "/accounts", { address: positionals[0]!, password });
        if (quota !== undefined) await client.call("PUT", `/accounts/${account.id}/quota`, { storageBytes: quota });
        const shown = { ...account, ...(quota !== undefined ? { quotaBytes: quota } : {}), ...(values.password ? {} : { password }) };
        emit(ctx, shown, () =>
          [
            `added ${account.address}${quota !== undefined ? ` (quota ${quota === null ? "none" : formatBytes(quota)})` : ""}`,
            ...(values.password ? [] : [`password: ${password}`, paint(ctx.color, "dim", "(shown once: hand it over now)")]),
          ].join("\n"),
        );
        return 0;
      },
    },
    passwd: {
      usage: "usage: edgemail user passwd <address> [--password P]\n  without --password a strong one is generated and printed once; the old one stops working",
      async run(ctx, args) {
        const { values, positionals } = parseCommand(args, { password: { type: "string" } }, { min: 1, max: 1, names: "an address" });
        const address = positionals[0]!;
        const password = values.password ?? generatePassword();
        await (await ctx.client()).call("PUT", `/accounts/${seg(address)}/password`, { password });
        emit(ctx, { address, changed: true, ...(values.password ? {} : { password }) }, () =>
          [`changed the password of ${address}`, ...(values.password ? [] : [`password: ${password}`, paint(ctx.color, "dim", "(shown once: hand it over now)")])].join("\n"),
        );
        return 0;
      },
    },
    list: {
      usage: "usage: edgemail user list\n  QUOTA and USED in 1024-based units; USED turns red from 90% of the quota",
      async run(ctx, args) {
        parseCommand(args, {}, { min: 0, max: 0, names: "" });
        const body = await (await ctx.client()).call<{ accounts: Account[] }>("GET", "/accounts");
        emit(ctx, body, () =>
          table(
            ["ADDRESS", "QUOTA", "USED"],
            body.accounts.map((a) => {
              const used = a.usedBytes ?? 0;
              const quota = a.quotaBytes ?? null;
              const full = quota !== null && used >= quota * 0.9;
              const usedText = formatBytes(used) + (quota ? ` ${Math.round((used / quota) * 100)}%` : "");
              return [a.address, quota === null ? "-" : formatBytes(quota), full ? paint(ctx.color, "red", usedText) : usedText];
            }),
            { right: [1, 2], color: ctx.color },
          ),
        );
        return 0;
      },
    },
    quota: {
      usage: "usage: edgemail user quota <address> <SIZE|none>\n  SIZE is 1024-based: 500M, 2G; none lifts the limit",
      async run(ctx, args) {
        const { positionals } = parseCommand(args, {}, { min: 2, max: 2, names: "an address and a size (or none)" });
        const [address, size] = positionals as [string, string];
        const quota = quotaArg(size, "SIZE");
        await (await ctx.client()).call("PUT", `/accounts/${seg(address)}/quota`, { storageBytes: quota });
        emit(ctx, { address, quotaBytes: quota }, () => `quota of ${address}: ${quota === null ? "none" : formatBytes(quota)}`);
        return 0;
      },
    },
    remove: {
      usage: [
        "usage: edgemail user remove <address> [--yes]",
        "  deletes the account with all its mailboxes and mail; aliases lose it as a target",
        "  asks first when run from a terminal, unless --yes; scripts are never asked",
      ].join("\n"),
      async run(ctx, args) {
        const { values, positionals } = parseCommand(args, { yes: { type: "boolean", short: "y" } }, { min: 1, max: 1, names: "an address" });
        const address = positionals[0]!;
        if (!values.yes && ctx.confirm && !(await ctx.confirm(`remove ${address} and all its mail?`))) {
          ctx.out(ctx.json ? JSON.stringify({ address, removed: false }, null, 2) : `kept ${address}`);
          return 1;
        }
        await (await ctx.client()).call("DELETE", `/accounts/${seg(address)}`);
        emit(ctx, { address, removed: true }, () => `removed ${address}`);
        return 0;
      },
    },
  },
};
