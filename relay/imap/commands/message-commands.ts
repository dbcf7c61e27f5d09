/**
 * Commands that read and change messages in the selected mailbox beyond the first slice
 * (SEARCH, SORT, THREAD, IDLE, CONDSTORE/QRESYNC forms of SELECT/FETCH/STORE, BINARY), and the
 * capabilities they bring.
 */
import type { CommandSpec } from "./types.ts";

export const messageCommands: Readonly<Record<string, CommandSpec>> = {};

/** Advertised after login. */
export const messageCapabilities: readonly string[] = [];
