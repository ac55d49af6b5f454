/**
 * Entry point of the reference app on Fastify: `npm run start:fastify` (or
 * `node examples/app/dist/server-fastify.js`). Same settings, pages and HTTP contract as `npm start`.
 *
 * @module
 */
import { main } from "./run.js";

await main("fastify");
