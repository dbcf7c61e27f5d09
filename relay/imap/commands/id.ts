/**
 * ID (RFC 2971): the client may say who it is; we say only our name, never a version (it
 * would help nobody but an attacker). Valid in every state.
 *
 * Callers may rely on: the argument is checked as RFC 2971 §3.3 says (NIL, or a list of at
 * most 30 field/value pairs, fields strings of at most 30 octets, values nstrings of at most
 * 1024) and BAD otherwise; the answer is always `* ID ("name" "edgemail")`.
 */
import { ImapProtocolError } from "../protocol/errors.ts";
import { untagged } from "../protocol/writer.ts";
import type { CommandSpec } from "./types.ts";

export const id: CommandSpec = {
  states: ["notAuthenticated", "authenticated", "selected"],
  async run({ args, conn }) {
    const token = args.next("a list of ID fields or NIL");
    args.end();
    if (token.type === "list") {
      const items = token.items;
      if (items.length % 2 !== 0 || items.length > 60) throw new ImapProtocolError("BAD", "ID takes up to 30 field/value pairs");
      for (let i = 0; i < items.length; i += 2) {
        const field = items[i]!;
        const value = items[i + 1]!;
        if (field.type !== "string" || field.value.length > 30) {
          throw new ImapProtocolError("BAD", "ID field names are strings of up to 30 octets");
        }
        if (value.type !== "nil" && (value.type !== "string" || value.value.length > 1024)) {
          throw new ImapProtocolError("BAD", "ID values are NIL or strings of up to 1024 octets");
        }
      }
    } else if (token.type !== "nil") {
      throw new ImapProtocolError("BAD", "Expected a list of ID fields or NIL");
    }
    await conn.send(untagged('ID ("name" "edgemail")'));
    return { text: "ID completed." };
  },
};
