/**
 * ENVELOPE data from a header block, as Dovecot 2.3 builds it
 * (message_part_envelope_parse_from_header + imap_envelope_write).
 *
 * - Date, Subject, In-Reply-To and Message-ID come from the LAST occurrence of the field
 *   and are kept raw (folds included); the renderer applies Dovecot's output rules.
 * - From, Sender, Reply-To, To, Cc and Bcc join the addresses of ALL occurrences.
 * - A Sender or Reply-To that is absent or yields no address is replaced by From
 *   (RFC 3501), so the stored envelope is already what goes on the wire.
 */

import { parseAddressList, type Address } from "./address.ts";
import type { HeaderField } from "./headers.ts";

export type Envelope = {
  date: string | null;
  subject: string | null;
  from: Address[] | null;
  sender: Address[] | null;
  replyTo: Address[] | null;
  to: Address[] | null;
  cc: Address[] | null;
  bcc: Address[] | null;
  inReplyTo: string | null;
  messageId: string | null;
};

export function emptyEnvelope(): Envelope {
  return {
    date: null,
    subject: null,
    from: null,
    sender: null,
    replyTo: null,
    to: null,
    cc: null,
    bcc: null,
    inReplyTo: null,
    messageId: null,
  };
}

type AddressKey = "from" | "sender" | "replyTo" | "to" | "cc" | "bcc";
type StringKey = "date" | "subject" | "inReplyTo" | "messageId";

const STRING_FIELDS = new Map<string, StringKey>([
  ["date", "date"],
  ["subject", "subject"],
  ["in-reply-to", "inReplyTo"],
  ["message-id", "messageId"],
]);

const ADDRESS_FIELDS = new Map<string, AddressKey>([
  ["from", "from"],
  ["sender", "sender"],
  ["reply-to", "replyTo"],
  ["to", "to"],
  ["cc", "cc"],
  ["bcc", "bcc"],
]);

export function buildEnvelope(fields: readonly HeaderField[]): Envelope {
  const env = emptyEnvelope();
  for (const field of fields) {
    const name = field.name.toLowerCase();
    const s = STRING_FIELDS.get(name);
    if (s !== undefined) {
      env[s] = field.value;
      continue;
    }
    const a = ADDRESS_FIELDS.get(name);
    if (a !== undefined) {
      const list = parseAddressList(field.value);
      if (list !== null) {
        const prev = env[a];
        env[a] = prev === null ? list : [...prev, ...list];
      }
    }
  }
  if (env.sender === null && env.from !== null) env.sender = [...env.from];
  if (env.replyTo === null && env.from !== null) env.replyTo = [...env.from];
  return env;
}
