/**
 * The shape every IMAP command handler has. A handler reads its arguments from `args`,
 * writes untagged responses through the connection, and returns the text (and optional
 * response code) of its tagged OK; failures are thrown as ImapProtocolError or EdgeError
 * and turned into NO/BAD by the dispatcher.
 */
import type { Args } from "../protocol/parser.ts";
import type { ImapConnection } from "../connection.ts";
import type { StateKind } from "../session.ts";

export interface CommandContext {
  readonly tag: string;
  /** Upper-cased command name, e.g. "UID FETCH". */
  readonly name: string;
  readonly args: Args;
  /** True for the UID forms: sets name UIDs and responses carry UID. */
  readonly byUid: boolean;
  readonly conn: ImapConnection;
}

export interface CommandResult {
  text: string;
  code?: string | null;
  /** Runs after the tagged OK is written (STARTTLS switches to TLS here). */
  after?: () => Promise<void> | void;
}

export interface CommandSpec {
  states: readonly StateKind[];
  run(ctx: CommandContext): Promise<CommandResult>;
}
