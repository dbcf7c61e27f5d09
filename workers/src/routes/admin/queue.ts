/** Placeholder: filled in by the work on issue 6. */
import { Hono } from "hono";
import type { AppEnv } from "../../env.ts";

export const queueRoutes = new Hono<AppEnv>();
