/**
 * The README's Install section runs the tutorial as a user would: a process that listens, with one user
 * added, and a login over real HTTP with the Origin header a browser sends.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fencedFileBlock } from "../helpers/markdown.js";

const root = join(import.meta.dirname, "..", "..");
let child: ChildProcess | undefined;

afterEach(() => {
  child?.kill();
  child = undefined;
});

/** Starts `examples/tutorial/server.ts` on a free port and resolves with the login URL it prints. */
function startTutorial(): Promise<string> {
  child = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions", "login-manager-source", "examples/tutorial/server.ts"],
    { cwd: root, env: { ...process.env, PORT: "0", SECRET_KEY: "tutorial-secret-0123456789abcdef0123" } },
  );
  const started = child;
  return new Promise((resolve, reject) => {
    let output = "";
    started.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const url = /http:\/\/127\.0\.0\.1:\d+\/login/.exec(output)?.[0];
      if (url) resolve(url);
    });
    started.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    started.on("exit", (code) => reject(new Error(`the tutorial exited with ${code}: ${output}`)));
  });
}

describe("README: run the tutorial", () => {
  it("shows examples/tutorial/server.ts exactly", () => {
    const block = fencedFileBlock(new URL("../../README.md", import.meta.url), "examples/tutorial/server.ts");
    expect(block).toBe(readFileSync(join(root, "examples/tutorial/server.ts"), "utf8"));
  });

  it("listens, and the user it adds logs in over HTTP", async () => {
    const loginUrl = await startTutorial();
    const origin = new URL(loginUrl).origin;
    const form = await fetch(loginUrl);
    const cookie = form.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? "";
    const login = await fetch(`${loginUrl}?next=%2Fprotected`, {
      method: "POST",
      redirect: "manual",
      headers: { origin, cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        email: "alice@example.com",
        password: "correct horse battery staple",
        _csrf: csrf,
      }),
    });
    expect(login.status).toBe(303);
    const session = login.headers.getSetCookie().map((c) => c.split(";")[0]);
    const page = await fetch(`${origin}/protected`, { headers: { cookie: session.join("; ") } });
    expect(await page.text()).toBe("Logged in as: alice@example.com");
  });
});
