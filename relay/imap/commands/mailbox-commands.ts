/**
 * Commands that manage mailboxes and move messages between them (CREATE, DELETE, RENAME,
 * SUBSCRIBE, LSUB, NAMESPACE, STATUS, APPEND, ENABLE, ID, UNSELECT, CHECK, CLOSE, EXPUNGE,
 * COPY, MOVE, quota), and the capabilities they bring. LIST lives in list.ts (the table in
 * index.ts names it directly).
 */
import { append } from "./append.ts";
import { copy, move } from "./copy-move.ts";
import { enable } from "./enable.ts";
import { check, close, expunge, unselect } from "./expunge.ts";
import { id } from "./id.ts";
import { lsub } from "./list.ts";
import { create, deleteMailbox, namespace, rename, subscribe, unsubscribe } from "./mailbox-admin.ts";
import { getQuota, getQuotaRoot, setQuota } from "./quota.ts";
import { status } from "./status.ts";
import type { CommandSpec } from "./types.ts";

export const mailboxCommands: Readonly<Record<string, CommandSpec>> = {
  CREATE: create,
  DELETE: deleteMailbox,
  RENAME: rename,
  SUBSCRIBE: subscribe,
  UNSUBSCRIBE: unsubscribe,
  LSUB: lsub,
  NAMESPACE: namespace,
  STATUS: status,
  APPEND: append,
  ENABLE: enable,
  ID: id,
  UNSELECT: unselect,
  CHECK: check,
  CLOSE: close,
  EXPUNGE: expunge,
  "UID EXPUNGE": expunge,
  COPY: copy,
  "UID COPY": copy,
  MOVE: move,
  "UID MOVE": move,
  GETQUOTAROOT: getQuotaRoot,
  GETQUOTA: getQuota,
  SETQUOTA: setQuota,
};

/**
 * Advertised after login. APPENDLIMIT goes without a value here because the limit is
 * per-connection configuration (conn.limits.maxLiteralSize) while this list is static;
 * RFC 7889 §3 lets a client then read it per mailbox with STATUS (APPENDLIMIT).
 */
export const mailboxCapabilities: readonly string[] = [
  "ENABLE",
  "ID",
  "NAMESPACE",
  "UNSELECT",
  "UIDPLUS",
  "MOVE",
  "CHILDREN",
  "LIST-EXTENDED",
  "LIST-STATUS",
  "STATUS=SIZE",
  "CREATE-SPECIAL-USE",
  "MULTIAPPEND",
  "APPENDLIMIT",
  "QUOTA",
  "QUOTA=RES-STORAGE",
  "UTF8=ACCEPT",
  "LITERAL+",
];
