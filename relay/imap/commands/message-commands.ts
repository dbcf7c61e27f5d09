/**
 * Commands that read and change messages in the selected mailbox beyond the first slice
 * (SEARCH, SORT, THREAD, IDLE; the CONDSTORE/QRESYNC forms of SELECT/FETCH/STORE and BINARY
 * live in their own files, listed in index.ts), and the capabilities they bring.
 */
import { idle } from "./idle.ts";
import { search } from "./search.ts";
import { sort } from "./sort.ts";
import { thread } from "./thread.ts";
import type { CommandSpec } from "./types.ts";

export const messageCommands: Readonly<Record<string, CommandSpec>> = {
  SEARCH: search,
  "UID SEARCH": search,
  SORT: sort,
  "UID SORT": sort,
  THREAD: thread,
  "UID THREAD": thread,
  IDLE: idle,
};

/** Advertised after login. */
export const messageCapabilities: readonly string[] = [
  "IDLE",
  "CONDSTORE",
  "QRESYNC",
  "ESEARCH",
  "SEARCHRES",
  "SORT",
  "SORT=DISPLAY",
  "THREAD=REFERENCES",
  "THREAD=ORDEREDSUBJECT",
  "BINARY",
];
