/**
 * The command table: each command's name, the states it is valid in, and its handler.
 * Adding a command means adding one file and one line here.
 */
import { authenticate } from "./authenticate.ts";
import { capability } from "./capability.ts";
import { compress } from "./compress.ts";
import { fetch } from "./fetch.ts";
import { list } from "./list.ts";
import { login } from "./login.ts";
import { logout } from "./logout.ts";
import { noop } from "./noop.ts";
import { examine, select } from "./select.ts";
import { starttls } from "./starttls.ts";
import { store } from "./store.ts";
import type { CommandSpec } from "./types.ts";
import { mailboxCommands } from "./mailbox-commands.ts";
import { messageCommands } from "./message-commands.ts";

export const commandTable: Readonly<Record<string, CommandSpec>> = {
  CAPABILITY: capability,
  NOOP: noop,
  LOGOUT: logout,
  STARTTLS: starttls,
  LOGIN: login,
  AUTHENTICATE: authenticate,
  COMPRESS: compress,
  LIST: list,
  SELECT: select,
  EXAMINE: examine,
  FETCH: fetch,
  "UID FETCH": fetch,
  STORE: store,
  "UID STORE": store,
  ...mailboxCommands,
  ...messageCommands,
};
