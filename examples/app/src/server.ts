/**
 * Entry point of the reference app: `npm start` (or `node examples/app/dist/server.js`). Serves the
 * app on the framework named by `APP_FRAMEWORK` (express, fastify or hono; Express when unset).
 * `npm run start:fastify` and `npm run start:hono` use `server-fastify.ts` / `server-hono.ts`.
 *
 * @module
 */
import { main } from "./run.js";

await main();
