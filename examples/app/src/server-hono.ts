/**
 * Entry point of the reference app on Hono: `npm run start:hono` (or
 * `node examples/app/dist/server-hono.js`). Same settings, pages and HTTP contract as `npm start`.
 *
 * @module
 */
import { main } from "./run.js";

await main("hono");
