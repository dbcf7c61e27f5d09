/**
 * Loader for the Dovecot 2.3.19 differential oracle in /work/shared/imap-oracle
 * (the `shared` folder is a sibling of the repository root). See its README.md.
 */

import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { gunzipSync } from "node:zlib";

export const ORACLE_DIR = new URL("../../../shared/imap-oracle/", import.meta.url);

export interface OracleMessage {
  message: string;
  uid: number;
  bytes: number;
  sha256: string;
  parts: string[];
}

export interface OracleEntry {
  message: string | null;
  uid: number | null;
  command: string;
  response: string;
  encoding?: "base64" | "gzip+base64";
  bytes: number;
  sha256: string;
  tagged: string;
}

export interface Oracle {
  header: Record<string, unknown>;
  messages: OracleMessage[];
  entries: OracleEntry[];
}

let cached: Oracle | undefined;

export function loadOracle(): Oracle {
  cached ??= JSON.parse(readFileSync(new URL("responses.json", ORACLE_DIR), "utf8")) as Oracle;
  return cached;
}

/** The .eml file names, in filename (= UID) order. */
export function oracleMessageFiles(): string[] {
  return readdirSync(ORACLE_DIR)
    .filter((name) => name.endsWith(".eml"))
    .sort();
}

/** The raw octets of one message, exactly as on disk (not normalised). */
export function readOracleMessage(name: string): Buffer {
  return readFileSync(new URL(name, ORACLE_DIR));
}

/** The raw response octets of an entry, decoded and checked against bytes/sha256. */
export function decodeResponse(entry: OracleEntry): Buffer {
  let bytes: Buffer;
  if (entry.encoding === undefined) bytes = Buffer.from(entry.response, "utf8");
  else if (entry.encoding === "base64") bytes = Buffer.from(entry.response, "base64");
  else if (entry.encoding === "gzip+base64") bytes = gunzipSync(Buffer.from(entry.response, "base64"));
  else throw new Error(`unknown response encoding ${String(entry.encoding)}`);
  if (bytes.length !== entry.bytes) throw new Error(`${entry.command}: ${bytes.length} octets, oracle says ${entry.bytes}`);
  const sha = createHash("sha256").update(bytes).digest("hex");
  if (sha !== entry.sha256) throw new Error(`${entry.command}: sha256 mismatch`);
  return bytes;
}

/**
 * Split `* n FETCH (UID u ITEM <value>)\r\n` for a single-item FETCH response.
 * Returns the item name as Dovecot wrote it (e.g. `BODY[1.MIME]<10>`) and the value octets.
 */
export function parseFetchResponse(response: Buffer): { seq: number; uid: number; item: string; value: Buffer } {
  const m = /^\* (\d+) FETCH \(UID (\d+) ([A-Z0-9.]+(?:\[[^\]]*\](?:<\d+>)?)?) /.exec(response.toString("latin1"));
  if (m === null) throw new Error(`not a FETCH response: ${response.toString("latin1").slice(0, 80)}`);
  const start = m[0].length;
  const tail = Buffer.from(")\r\n");
  if (!response.subarray(response.length - tail.length).equals(tail)) throw new Error("FETCH response does not end with )\\r\\n");
  return { seq: Number(m[1]), uid: Number(m[2]), item: m[3]!, value: response.subarray(start, response.length - tail.length) };
}

/** The octets of an IMAP literal `{n}\r\n<n octets>` (the whole value must be the literal). */
export function literalBody(value: Buffer): Buffer {
  const m = /^\{(\d+)\}\r\n/.exec(value.toString("latin1"));
  if (m === null) throw new Error(`not a literal: ${value.toString("latin1").slice(0, 40)}`);
  const body = value.subarray(m[0].length);
  if (body.length !== Number(m[1])) throw new Error(`literal length ${body.length} != ${m[1]}`);
  return body;
}
