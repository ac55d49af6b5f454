import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { serve } from "@hono/node-server";
import { MemoryStore } from "login-manager/stores/memory";
import { describe, expect, it } from "vitest";
import { createApp as createExpressApp } from "../../examples/guides/express.js";
import { createApp as createFastifyApp } from "../../examples/guides/fastify.js";
import { createApp as createHonoApp } from "../../examples/guides/hono.js";
import type { AppClient } from "../adapters/harness.js";
import { Browser, expressClient, fastifyClient, honoClient, withOutageSwitch } from "../adapters/harness.js";
import { fencedBlocks, fencedFileBlock } from "../helpers/markdown.js";

const SECRET = "guide-test-secret-0123456789abcdefghij";
const PASSWORD = "correct horse battery staple";

/** The fenced block of `guide` marked ```ts file=<file>, exactly as written. */
function guideBlock(guide: string, file: string): string {
  return fencedFileBlock(new URL(`../../${guide}`, import.meta.url), file);
}

const run = promisify(execFile);

/** A guide's app listening on 127.0.0.1. */
interface Listening {
  port: number;
  close(): Promise<void>;
}

function listeningNodeServer(server: Server): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const ready = () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    if (server.listening) ready();
    else server.once("listening", ready).once("error", reject);
  });
}

const GUIDES = [
  {
    name: "express",
    build: async (store: MemoryStore | ReturnType<typeof withOutageSwitch>): Promise<AppClient> =>
      expressClient(await createExpressApp({ secret: SECRET, store })),
    listen: async (): Promise<Listening> =>
      listeningNodeServer((await createExpressApp({ secret: SECRET })).listen(0, "127.0.0.1")),
  },
  {
    name: "fastify",
    build: async (store: MemoryStore | ReturnType<typeof withOutageSwitch>): Promise<AppClient> =>
      fastifyClient(await createFastifyApp({ secret: SECRET, store })),
    listen: async (): Promise<Listening> => {
      const app = await createFastifyApp({ secret: SECRET });
      await app.listen({ port: 0, host: "127.0.0.1" });
      return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
    },
  },
  {
    name: "hono",
    build: async (store: MemoryStore | ReturnType<typeof withOutageSwitch>): Promise<AppClient> =>
      honoClient(await createHonoApp({ secret: SECRET, store })),
    listen: async (): Promise<Listening> => {
      const app = await createHonoApp({ secret: SECRET });
      return listeningNodeServer(serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server);
    },
  },
] as const;

/** The guide's shell block that uses curl, with its http://localhost:3000 pointed at `port`. */
function curlSession(guide: string, port: number): string {
  const markdown = readFileSync(new URL(`../../${guide}`, import.meta.url), "utf8");
  const blocks = fencedBlocks(markdown).filter(
    (block) => block.info === "sh" && block.body.includes("curl "),
  );
  expect(blocks).toHaveLength(1);
  return (blocks[0]?.body ?? "").replaceAll("localhost:3000", `127.0.0.1:${port}`);
}

function csrfField(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!match?.[1]) throw new Error(`no CSRF field in: ${page}`);
  return match[1];
}

// "$name.md" would read as the property path name.md, so the title is built here.
describe.each(GUIDES.map((guide) => [`docs/guides/${guide.name}.md`, guide] as const))(
  "%s",
  (_title, { name, build, listen }) => {
    const guide = `docs/guides/${name}.md`;
    const file = `examples/guides/${name}.ts`;

    it(`shows ${file} verbatim`, () => {
      expect(guideBlock(guide, file)).toBe(readFileSync(file, "utf8"));
    });

    it("runs: anonymous redirect, wrong password, login, protected page, currentUser(), logout", async () => {
      const app = await build(new MemoryStore());
      try {
        const browser = new Browser(app);
        const anonymous = await browser.get("/account");
        expect(anonymous.status).toBe(302);
        expect(anonymous.headers.location).toBe("/login?next=%2Faccount");
        expect((await browser.get("/")).text).toBe("Hello, stranger");

        const loginPage = await browser.get("/login?next=%2Faccount");
        const _csrf = csrfField(loginPage.text);
        const wrong = await browser.post("/login?next=%2Faccount", {
          form: { username: "alice", password: "not the password", _csrf },
        });
        expect(wrong.status).toBe(401);
        const noCsrf = await browser.post("/login", { form: { username: "alice", password: PASSWORD } });
        expect(noCsrf.status).toBe(403);

        const login = await browser.post("/login?next=%2Faccount", {
          form: { username: "alice", password: PASSWORD, remember: "1", _csrf },
        });
        expect(login.status).toBe(303);
        expect(login.headers.location).toBe("/account");
        expect(login.cookie("remember_token")).toBeDefined();

        const account = await browser.get("/account");
        expect(account.status).toBe(200);
        expect(account.text).toContain("Signed in as alice");
        expect((await browser.get("/")).text).toBe("Hello, alice");

        const logout = await browser.post("/logout", { form: { _csrf: csrfField(account.text) } });
        expect(logout.status).toBe(303);
        expect(logout.headers.location).toBe("/");
        expect((await browser.get("/account")).status).toBe(302);
        expect(browser.jar.has("remember_token")).toBe(false);
      } finally {
        await app.close();
      }
    });

    it("shows the flashed 'Please log in' on the login page once, escaped", async () => {
      const app = await build(new MemoryStore());
      try {
        const browser = new Browser(app);
        expect((await browser.get("/account")).status).toBe(302);
        const loginPage = await browser.get("/login?next=%2Faccount");
        expect(loginPage.text).toContain("<p>Please log in to access this page.</p>\n<form");
        expect((await browser.get("/login")).text).not.toContain("Please log in");
      } finally {
        await app.close();
      }
    });

    it("runs the guide's curl session: Origin and the token log in, the account page follows", async () => {
      const server = await listen();
      const folder = mkdtempSync(join(tmpdir(), "lm-guide-curl-"));
      try {
        const { stdout } = await run("bash", ["-euo", "pipefail", "-c", curlSession(guide, server.port)], {
          cwd: folder,
        });
        expect(stdout).toContain(`303 http://127.0.0.1:${server.port}/account\n`);
        expect(stdout).toContain("Signed in as alice");
      } finally {
        await server.close();
        rmSync(folder, { recursive: true, force: true });
      }
    });

    it("answers a form POST without Origin or Sec-Fetch-Site with a 403 that names the missing header", async () => {
      const app = await build(new MemoryStore());
      try {
        const browser = new Browser(app);
        const _csrf = csrfField((await browser.get("/login")).text);
        const res = await browser.post("/login", {
          form: { username: "alice", password: PASSWORD, _csrf },
          headers: { origin: undefined, "sec-fetch-site": undefined },
        });
        expect(res.status).toBe(403);
        expect(res.text).toContain("Origin");
        expect(browser.jar.has("remember_token")).toBe(false);
        expect((await browser.get("/account")).status).toBe(302);
      } finally {
        await app.close();
      }
    });

    it("answers 429 with Retry-After on the wrong password that locks the account [checklist C.21]", async () => {
      const app = await build(new MemoryStore());
      try {
        const browser = new Browser(app);
        const _csrf = csrfField((await browser.get("/login")).text);
        const statuses: number[] = [];
        let last: Awaited<ReturnType<typeof browser.post>> | undefined;
        for (let i = 0; i < 5; i++) {
          last = await browser.post("/login", { form: { username: "alice", password: `guess ${i}`, _csrf } });
          statuses.push(last.status);
        }
        expect(statuses).toEqual([401, 401, 401, 401, 429]);
        expect(last?.headers["retry-after"]).toBe("30");
      } finally {
        await app.close();
      }
    });

    it("answers 503 with the custom page while the session store is down", async () => {
      const outage = { down: false };
      const app = await build(withOutageSwitch(new MemoryStore(), outage));
      try {
        const browser = new Browser(app);
        const _csrf = csrfField((await browser.get("/login")).text);
        await browser.post("/login", { form: { username: "alice", password: PASSWORD, _csrf } });
        outage.down = true;
        const res = await browser.get("/account");
        expect(res.status).toBe(503);
        expect(res.headers["retry-after"]).toBe("5");
        expect(res.text).toBe("Sign-in is briefly unavailable.");
      } finally {
        await app.close();
      }
    });
  },
);
