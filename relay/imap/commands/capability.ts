/** CAPABILITY (RFC 9051 §6.1.1): what this connection offers in its current state. */
import { untagged } from "../protocol/writer.ts";
import type { CommandSpec } from "./types.ts";

export const capability: CommandSpec = {
  states: ["notAuthenticated", "authenticated", "selected"],
  async run({ args, conn }) {
    args.end();
    await conn.send(untagged(`CAPABILITY ${conn.capabilities().join(" ")}`));
    return { text: "Capability completed." };
  },
};
