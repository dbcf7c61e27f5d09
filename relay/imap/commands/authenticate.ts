/**
 * AUTHENTICATE (RFC 9051 §6.2.2) with SASL PLAIN (RFC 4616), with or without an initial
 * response (SASL-IR, RFC 4959). A client may cancel with "*".
 */
import { ImapProtocolError } from "../protocol/errors.ts";
import { signIn } from "./login.ts";
import type { CommandSpec } from "./types.ts";

export const authenticate: CommandSpec = {
  states: ["notAuthenticated"],
  async run({ args, conn }) {
    const mechanism = args.atom().toUpperCase();
    const initial = args.remaining() > 0 ? args.atom() : null;
    args.end();
    if (mechanism !== "PLAIN") {
      throw new ImapProtocolError("NO", "Unsupported authentication mechanism", { code: "CANNOT" });
    }
    if (!conn.secure) {
      throw new ImapProtocolError("NO", "Plaintext authentication disallowed without TLS", { code: "PRIVACYREQUIRED" });
    }
    let response: string;
    if (initial !== null) {
      response = initial === "=" ? "" : initial;
    } else {
      const line = await conn.readLine("");
      if (line === null) throw new ImapProtocolError("BAD", "Connection closed");
      response = line.toString("latin1").trim();
    }
    if (response === "*") throw new ImapProtocolError("BAD", "Authentication canceled");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(response)) throw new ImapProtocolError("BAD", "Invalid base64 data");
    const parts = Buffer.from(response, "base64").toString("utf8").split("\0");
    if (parts.length !== 3) throw new ImapProtocolError("BAD", "Malformed PLAIN response");
    const [authzid, authcid, password] = parts as [string, string, string];
    if (authzid !== "" && authzid.toLowerCase() !== authcid.toLowerCase()) {
      throw new ImapProtocolError("NO", "Authorization identity not permitted", { code: "AUTHORIZATIONFAILED" });
    }
    return signIn(conn, authcid, password);
  },
};
