/**
 * `npm start`: the whole stack on this machine, state in `.edgemail/` (or EDGEMAIL_DATA).
 * Prints the settings a mail client needs and writes them to `.edgemail/local.json`.
 * Ctrl-C stops the relay and the edge cleanly.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalStack } from "./stack.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const env = process.env;
const port = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);

const stack = new LocalStack({
  dataDir: resolve(root, env.EDGEMAIL_DATA ?? ".edgemail"),
  ports: {
    edge: port("EDGEMAIL_EDGE_PORT", 8787),
    mx: port("EDGEMAIL_SMTP_PORT", 2525),
    imaps: port("EDGEMAIL_IMAPS_PORT", 9993),
    imap: port("EDGEMAIL_IMAP_PORT", 1143),
    submissions: port("EDGEMAIL_SUBMISSIONS_PORT", 4465),
    submission: port("EDGEMAIL_SUBMISSION_PORT", 5587),
  },
  // Mail to other domains leaves through the system resolver and port 25, as on a VPS.
  delivery: {},
  log: (line) => console.error(`[relay] ${line}`),
});

const s = await stack.start();
console.log(`
edgemail is running locally (data in ${s.dataDir})

  edge (workerd, local D1/R2)  ${s.edgeUrl}
  SMTP (MX, STARTTLS)          ${s.host}:${s.ports.smtp}
  submission (implicit TLS)    ${s.host}:${s.ports.submissions}
  submission (STARTTLS)        ${s.host}:${s.ports.submission}
  IMAP (implicit TLS)          ${s.host}:${s.ports.imaps}
  IMAP (STARTTLS)              ${s.host}:${s.ports.imap}

  user      ${s.demo.address}
  password  ${s.demo.password}
  TLS       self-signed: ${s.certificate}
  admin     Authorization: Bearer ${s.adminToken}

Settings as JSON: ${s.dataDir}/local.json. Ctrl-C stops everything.
`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping…");
    void stack.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
