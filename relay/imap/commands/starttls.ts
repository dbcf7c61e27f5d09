/** STARTTLS (RFC 9051 §6.2.1): only on a cleartext connection before login. */
import { ImapProtocolError } from "../protocol/errors.ts";
import type { CommandSpec } from "./types.ts";

export const starttls: CommandSpec = {
  states: ["notAuthenticated"],
  async run({ args, conn }) {
    args.end();
    if (conn.secure) throw new ImapProtocolError("BAD", "TLS is already active");
    return { text: "Begin TLS negotiation now.", after: () => conn.upgradeToTls() };
  },
};
