/**
 * drizzle-kit configuration: `npx drizzle-kit generate` turns workers/src/store/schema.ts into SQL
 * migrations under migrations/, which wrangler (and local/edge.ts) apply. Generated files are
 * reviewed and never edited after release.
 */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./workers/src/store/schema.ts",
  out: "./migrations",
});
