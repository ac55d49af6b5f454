// Serves the tutorial's app: `npx tsx server.ts`, then log in at http://127.0.0.1:5000/login.
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { addUser, createApp } from "./app.js";

await addUser("alice@example.com", "correct horse battery staple"); // the tutorial's only user
const { app } = createApp(process.env.SECRET_KEY ?? randomBytes(32).toString("hex"));
const server = app.listen(Number(process.env.PORT ?? 5000), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`http://127.0.0.1:${port}/login  (alice@example.com / correct horse battery staple)`);
});
