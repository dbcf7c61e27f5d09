/**
 * `edgemail dkim …`: the domain's DKIM keys (an RSA and an ed25519 key signing together), their
 * state, the TXT records DNS must publish, and rotation.
 *
 * Callers may rely on: records are printed as zone-file lines (absolute name, TXT split into
 * quoted ≤255-octet strings); `rotate` waits 48 hours by default before the new keys sign, because
 * a key must resolve before mail signed with it arrives: the operator publishes the printed records
 * first, and `--delay 0` is for someone who already has. Under --json both commands print the
 * edge's DkimPublicKeys.
 */
import type { DkimPublicKey, DkimPublicKeys } from "../../common/contract.ts";
import { seg } from "../admin-client.ts";
import { parseCommand, parseDuration } from "../args.ts";
import type { CommandGroup } from "../command.ts";
import { quoteString, txtStrings } from "../dns/zone.ts";
import { emit, formatTime, paint, table } from "../output.ts";

/** Covers publishing by hand plus a DNS TTL of up to a day, with a day to spare. */
const DEFAULT_DELAY = "48h";

const record = (k: DkimPublicKey) => `${k.dnsName}. IN TXT ${txtStrings({ text: k.dnsValue }).map(quoteString).join(" ")}`;

function keyTable(keys: DkimPublicKey[], color: boolean): string {
  const status = (s: DkimPublicKey["status"]) => paint(color, s === "active" ? "green" : s === "pending" ? "yellow" : "dim", s);
  return table(
    ["SELECTOR", "ALGORITHM", "STATUS", "SIGNS FROM", "RETIRES"],
    keys.map((k) => [k.selector, k.algorithm, status(k.status), formatTime(k.activeFrom), formatTime(k.retiredAt)]),
    { color },
  );
}

export const dkimGroup: CommandGroup = {
  summary: "DKIM keys: state, TXT records to publish, rotation",
  commands: {
    show: {
      usage: "usage: edgemail dkim show <domain>\n  the keys with their state, then the TXT records to publish for every key still in DNS",
      async run(ctx, args) {
        const { positionals } = parseCommand(args, {}, { min: 1, max: 1, names: "a domain name" });
        const keys = await (await ctx.client()).call<DkimPublicKeys>("GET", `/domains/${seg(positionals[0]!)}/dkim`);
        emit(ctx, keys, () => `${keyTable(keys.keys, ctx.color)}\n\n${keys.keys.map(record).join("\n")}`);
        return 0;
      },
    },
    rotate: {
      usage: [
        `usage: edgemail dkim rotate <domain> [--delay ${DEFAULT_DELAY}]`,
        "  adds a new RSA + ed25519 key pair that starts signing after --delay; the keys signing now",
        "  retire then (and stay published 7 more days). Publish the printed records before the delay",
        `  ends: mail signed with a key DNS does not have yet fails DKIM. Default ${DEFAULT_DELAY}; 0: sign now.`,
      ].join("\n"),
      async run(ctx, args) {
        const { values, positionals } = parseCommand(args, { delay: { type: "string" } }, { min: 1, max: 1, names: "a domain name" });
        const domain = positionals[0]!;
        const delaySeconds = parseDuration(values.delay ?? DEFAULT_DELAY, "--delay");
        const client = await ctx.client();
        const before = await client.call<DkimPublicKeys>("GET", `/domains/${seg(domain)}/dkim`);
        const after = await client.call<DkimPublicKeys>("POST", `/domains/${seg(domain)}/dkim/rotate`, { delaySeconds });
        const old = new Set(before.keys.map((k) => k.selector));
        const added = after.keys.filter((k) => !old.has(k.selector));
        const from = added[0]?.activeFrom;
        emit(ctx, after, () =>
          [
            keyTable(after.keys, ctx.color),
            "",
            delaySeconds === 0
              ? paint(ctx.color, "yellow", "the new keys sign now: publish these records at once")
              : `the new keys sign from ${formatTime(from)}: publish these records before then`,
            ...added.map(record),
          ].join("\n"),
        );
        return 0;
      },
    },
  },
};
