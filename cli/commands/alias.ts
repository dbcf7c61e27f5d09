/**
 * `edgemail alias …`: addresses that deliver to other addresses (accounts of ours, or external
 * ones, forwarded through the outbound queue with SRS).
 *
 * Callers may rely on: `add` creates a new alias (the edge refuses, exit 5, an address that is
 * already an alias or an account); `remove` asks nothing; under --json each command prints the
 * edge's answer, `remove` a `{ address, removed }` object.
 */
import type { Alias } from "../../common/contract.ts";
import { seg } from "../admin-client.ts";
import { parseCommand } from "../args.ts";
import type { CommandGroup } from "../command.ts";
import { emit, formatTime, paint, table } from "../output.ts";

export const aliasGroup: CommandGroup = {
  summary: "addresses that deliver to other addresses",
  commands: {
    add: {
      usage: "usage: edgemail alias add <address> <target> [target…]\n  targets are accounts of ours or external addresses (forwarded)",
      async run(ctx, args) {
        const { positionals } = parseCommand(args, {}, { min: 2, max: Infinity, names: "an address and at least one target" });
        const [address, ...targets] = positionals as [string, ...string[]];
        const alias = await (await ctx.client()).call<Alias>("POST", "/aliases", { address, targets });
        emit(ctx, alias, () => `added ${alias.address} → ${alias.targets.join(", ")}`);
        return 0;
      },
    },
    list: {
      usage: "usage: edgemail alias list [domain]",
      async run(ctx, args) {
        const { positionals } = parseCommand(args, {}, { min: 0, max: 1, names: "" });
        const query = positionals[0] ? `?domain=${seg(positionals[0])}` : "";
        const body = await (await ctx.client()).call<{ aliases: Alias[] }>("GET", `/aliases${query}`);
        emit(ctx, body, () =>
          table(
            ["ALIAS", "TARGETS", "CREATED"],
            body.aliases.map((a) => [a.address, a.targets.join(", "), paint(ctx.color, "dim", formatTime(a.createdAt))]),
            { color: ctx.color },
          ),
        );
        return 0;
      },
    },
    remove: {
      usage: "usage: edgemail alias remove <address>",
      async run(ctx, args) {
        const { positionals } = parseCommand(args, {}, { min: 1, max: 1, names: "an address" });
        const address = positionals[0]!;
        await (await ctx.client()).call("DELETE", `/aliases/${seg(address)}`);
        emit(ctx, { address, removed: true }, () => `removed ${address}`);
        return 0;
      },
    },
  },
};
