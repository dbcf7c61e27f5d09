/**
 * LOGIN (RFC 9051 §6.2.3) and the shared sign-in step AUTHENTICATE uses. Passwords are never
 * accepted before TLS (LOGINDISABLED is advertised then), and every failure looks the same.
 */
import type { ImapConnection } from "../connection.ts";
import { EdgeError } from "../../edge/errors.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import type { CommandResult, CommandSpec } from "./types.ts";

export const login: CommandSpec = {
  states: ["notAuthenticated"],
  async run({ args, conn }) {
    const username = args.astringText();
    const password = args.astringText();
    args.end();
    return signIn(conn, username, password);
  },
};

export async function signIn(conn: ImapConnection, username: string, password: string): Promise<CommandResult> {
  if (!conn.secure) {
    throw new ImapProtocolError("NO", "Plaintext authentication disallowed without TLS", { code: "PRIVACYREQUIRED" });
  }
  try {
    const principal = await conn.store.authenticate({ username, password, remoteAddress: conn.remoteAddress });
    if (!conn.claimLoginSlot(principal.accountId)) {
      throw new ImapProtocolError("NO", "Too many connections for this account", { code: "LIMIT" });
    }
    conn.state = { kind: "authenticated", principal };
  } catch (err) {
    if (err instanceof EdgeError && err.code === "auth_failed") {
      conn.authFailures++;
      const tooMany = conn.authFailures >= conn.limits.maxAuthFailures;
      if (tooMany) setImmediate(() => conn.close());
      throw new ImapProtocolError("NO", "Authentication failed.", { code: "AUTHENTICATIONFAILED" });
    }
    throw err;
  }
  return { text: "Logged in", code: `CAPABILITY ${conn.capabilities().join(" ")}` };
}
