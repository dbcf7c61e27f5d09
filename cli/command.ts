/**
 * What every `edgemail` command gets: the admin client, the output switches and a line printer.
 * edgemail.ts takes the global flags (--json, --url, --token, --help) off the command line and
 * hands each command only its own arguments, which it parses itself (node:util parseArgs, strict).
 *
 * Callers may rely on: a command returns its exit code (0 ok, 1 a check or operation failed) and
 * throws CliError for usage (2), an unreachable edge (3), a refused token (4) or a refused
 * request (5); `out` is the only way it prints; `color` is true only on a TTY without NO_COLOR.
 */
import type { AdminClient } from "./admin-client.ts";

export interface CommandContext {
  /** Connects on first use, so `--help` and argument errors never need an edge. */
  client: () => Promise<AdminClient>;
  json: boolean;
  color: boolean;
  out: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /**
   * Asks the operator a yes/no question; set only when stdin is a terminal, so a script is never
   * asked anything (destructive commands then take `--yes` or proceed, as each documents).
   */
  confirm?: (question: string) => Promise<boolean>;
}

export type Command = (ctx: CommandContext, args: string[]) => Promise<number>;

/** One command of a group: its usage (first line `usage: edgemail …`, then notes) and its handler. */
export interface CommandSpec {
  usage: string;
  run: Command;
}

/** A group such as `domain` or `user`: a one-line summary for `edgemail --help` and its commands. */
export interface CommandGroup {
  summary: string;
  commands: Record<string, CommandSpec>;
}
