/**
 * ENABLE (RFC 5161, RFC 9051 §6.3.1): the client turns on extensions that change how the
 * server talks to it. Valid only in the authenticated state (RFC 9051). Recorded, upper-case,
 * in `conn.enabled`, never off again for the connection.
 *
 * Callers may rely on: only CONDSTORE, QRESYNC (which also turns CONDSTORE on, RFC 7162
 * §3.2.3), IMAP4rev2 and UTF8=ACCEPT can be enabled, and only while the connection
 * advertises them; `* ENABLED` names just the ones this command turned on (in the spelling
 * of the capability list), so an unknown or already enabled name is silently left out.
 */
import { ImapProtocolError } from "../protocol/errors.ts";
import { untagged } from "../protocol/writer.ts";
import type { CommandSpec } from "./types.ts";

const ENABLEABLE = new Set(["CONDSTORE", "QRESYNC", "IMAP4REV2", "UTF8=ACCEPT"]);

export const enable: CommandSpec = {
  states: ["authenticated"],
  async run({ args, conn }) {
    const requested: string[] = [];
    while (args.remaining() > 0) requested.push(args.atom("a capability name").toUpperCase());
    if (requested.length === 0) throw new ImapProtocolError("BAD", "ENABLE needs at least one capability name");
    const offered = new Map(conn.capabilities().map((c) => [c.toUpperCase(), c]));
    const before = new Set(conn.enabled);
    const turnedOn: string[] = [];
    for (const name of requested) {
      const spelled = offered.get(name);
      if (!ENABLEABLE.has(name) || spelled === undefined) continue;
      conn.enabled.add(name);
      if (name === "QRESYNC") conn.enabled.add("CONDSTORE");
      if (!before.has(name) && !turnedOn.includes(spelled)) turnedOn.push(spelled);
    }
    await conn.send(untagged(["ENABLED", ...turnedOn].join(" ")));
    return { text: "Enable completed." };
  },
};
