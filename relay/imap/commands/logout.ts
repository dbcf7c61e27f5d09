/** LOGOUT (RFC 9051 §6.1.3): BYE, the tagged OK, then the connection closes. */
import { untagged } from "../protocol/writer.ts";
import type { CommandSpec } from "./types.ts";

export const logout: CommandSpec = {
  states: ["notAuthenticated", "authenticated", "selected"],
  async run({ args, conn }) {
    args.end();
    await conn.send(untagged("BYE Logging out"));
    conn.state = { kind: "logout" };
    return { text: "Logout completed.", after: () => conn.close() };
  },
};
