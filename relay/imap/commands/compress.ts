/**
 * COMPRESS DEFLATE (RFC 4978): saves most of the bytes of a FETCH-heavy session on a phone.
 * Allowed once per connection, after login.
 */
import { ImapProtocolError } from "../protocol/errors.ts";
import type { CommandSpec } from "./types.ts";

export const compress: CommandSpec = {
  states: ["authenticated", "selected"],
  async run({ args, conn }) {
    const mechanism = args.atom().toUpperCase();
    args.end();
    if (conn.compressed) throw new ImapProtocolError("NO", "Compression is already active", { code: "COMPRESSIONACTIVE" });
    if (mechanism !== "DEFLATE") throw new ImapProtocolError("BAD", `Unknown compression mechanism ${mechanism.slice(0, 20)}`);
    return { text: "DEFLATE active", after: () => conn.startCompression() };
  },
};
