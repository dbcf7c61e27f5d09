/**
 * Commands that manage mailboxes and move messages between them (CREATE, DELETE, RENAME,
 * SUBSCRIBE, LSUB, NAMESPACE, STATUS, APPEND, ENABLE, ID, UNSELECT, CHECK, CLOSE, EXPUNGE,
 * COPY, MOVE, quota), and the capabilities they bring.
 */
import type { CommandSpec } from "./types.ts";

export const mailboxCommands: Readonly<Record<string, CommandSpec>> = {};

/** Advertised after login. */
export const mailboxCapabilities: readonly string[] = [];
