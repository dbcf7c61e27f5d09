/**
 * The relay's entry point for production (systemd): `node relay/main.ts /etc/edgemail/relay.json`.
 * Prints the configuration without secrets, starts the listeners, stops cleanly on SIGTERM/SIGINT.
 */
import { describeConfig, loadConfig } from "./config.ts";
import { startRelay } from "./relay.ts";

const path = process.argv[2] ?? process.env.EDGEMAIL_RELAY_CONFIG;
if (!path) {
  console.error("usage: node relay/main.ts <config.json>   (or set EDGEMAIL_RELAY_CONFIG)");
  process.exit(64);
}
const config = await loadConfig(path);
console.log(`edgemail relay starting with:\n${describeConfig(config)}`);
const relay = await startRelay(config, (line) => console.error(line));
console.log(`listening: ${JSON.stringify(relay.ports)}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void relay.stop().then(() => process.exit(0));
  });
}
