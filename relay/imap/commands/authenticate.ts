/**
 * AUTHENTICATE (RFC 9051 §6.2.2) with SASL PLAIN (RFC 4616) and LOGIN (the informal mechanism
 * Outlook and old clients use, draft-murchison-sasl-login), with or without an initial
 * response (SASL-IR, RFC 4959). A client may cancel any step with "*".
 */
import type { ImapConnection } from "../connection.ts";
import { ImapProtocolError } from "../protocol/errors.ts";
import { signIn } from "./login.ts";
import type { CommandSpec } from "./types.ts";

export const authenticate: CommandSpec = {
  states: ["notAuthenticated"],
  async run({ args, conn }) {
    const mechanism = args.atom().toUpperCase();
    const initial = args.remaining() > 0 ? args.atom() : null;
    args.end();
    if (mechanism !== "PLAIN" && mechanism !== "LOGIN") {
      throw new ImapProtocolError("NO", "Unsupported authentication mechanism", { code: "CANNOT" });
    }
    if (!conn.secure) {
      throw new ImapProtocolError("NO", "Plaintext authentication disallowed without TLS", { code: "PRIVACYREQUIRED" });
    }
    if (mechanism === "LOGIN") {
      const username = initial !== null ? decode(initial) : await step(conn, "VXNlcm5hbWU6"); // "Username:"
      const password = await step(conn, "UGFzc3dvcmQ6"); // "Password:"
      return signIn(conn, username, password);
    }
    const response = initial !== null ? decode(initial) : await step(conn, "");
    const parts = response.split("\0");
    if (parts.length !== 3) throw new ImapProtocolError("BAD", "Malformed PLAIN response");
    const [authzid, authcid, password] = parts as [string, string, string];
    if (authzid !== "" && authzid.toLowerCase() !== authcid.toLowerCase()) {
      throw new ImapProtocolError("NO", "Authorization identity not permitted", { code: "AUTHORIZATIONFAILED" });
    }
    return signIn(conn, authcid, password);
  },
};

/** One challenge/response round: sends `+ challenge`, returns the decoded answer. */
async function step(conn: ImapConnection, challenge: string): Promise<string> {
  const line = await conn.readLine(challenge);
  if (line === null) throw new ImapProtocolError("BAD", "Connection closed");
  return decode(line.toString("latin1").trim());
}

/** SASL base64, where "=" alone is an empty initial response (RFC 4959 §3). */
function decode(text: string): string {
  if (text === "*") throw new ImapProtocolError("BAD", "Authentication canceled");
  if (text === "=") return "";
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
    throw new ImapProtocolError("BAD", "Invalid base64 data");
  }
  return Buffer.from(text, "base64").toString("utf8");
}
