/**
 * Fills a mailbox quickly through the relay's own edge client (blob upload + delivery, the
 * path SMTP takes after its policy checks), for tests that need many messages.
 */
import { createHash } from "node:crypto";
import { indexMessage } from "../../common/mime/index.ts";
import { computeSearchFields } from "../../common/mime/search-fields.ts";
import type { EdgeClient } from "../../relay/edge/client.ts";

export function sampleMessage(i: number, to: string): Buffer {
  return Buffer.from(
    [
      `From: Sender ${i % 13} <sender${i % 13}@example.net>`,
      `To: ${to}`,
      `Subject: message ${i}`,
      `Message-ID: <fill-${i}@example.net>`,
      `Date: ${new Date(Date.UTC(2026, 0, 1) + i * 60_000).toUTCString().replace("GMT", "+0000")}`,
      "",
      `Body of message ${i}.`,
      "",
    ].join("\r\n"),
  );
}

export async function fillInbox(edge: EdgeClient, to: string, count: number, width = 16): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        const raw = sampleMessage(i, to);
        const blob = await edge.putBlob(createHash("sha256").update(raw).digest("hex"), raw);
        const index = indexMessage(raw);
        await edge.deliver({
          idempotencyKey: `fill:${to}:${i}`,
          blob,
          envelope: { mailFrom: "", recipients: [to] },
          index,
          search: computeSearchFields(raw, index),
        });
      }
    }),
  );
}
