import { readFileSync } from "node:fs";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { addUser, createApp } from "../../examples/tutorial/app.js";
import { fencedFileBlock } from "../helpers/markdown.js";

const SECRET = "tutorial-test-secret-0123456789abcdef";

function readmeBlock(file: string): string {
  return fencedFileBlock(new URL("../../README.md", import.meta.url), file);
}

async function csrfFrom(agent: ReturnType<typeof request.agent>): Promise<string> {
  const page = await agent.get("/login");
  const match = /name="_csrf" value="([^"]+)"/.exec(page.text);
  if (!match?.[1]) throw new Error("login form has no CSRF token");
  return match[1];
}

describe("README tutorial", () => {
  it("shows the tutorial code exactly as examples/tutorial/app.ts has it", () => {
    expect(readmeBlock("examples/tutorial/app.ts")).toBe(readFileSync("examples/tutorial/app.ts", "utf8"));
  });

  it("runs: anonymous redirect, login, protected page, logout", async () => {
    await addUser("alice@example.com", "correct horse battery staple");
    const { app } = createApp(SECRET);
    const agent = request.agent(app);

    const anonymous = await agent.get("/protected");
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.location).toBe("/login?next=%2Fprotected");

    // The token is fetched before each POST is built: supertest's agent attaches cookies at that point.
    let csrf = await csrfFrom(agent);
    const wrong = await agent
      .post("/login")
      .set("sec-fetch-site", "same-origin")
      .type("form")
      .send({ email: "alice@example.com", password: "wrong password!", _csrf: csrf });
    expect(wrong.status).toBe(401);

    csrf = await csrfFrom(agent);
    const login = await agent
      .post("/login?next=%2Fprotected")
      .set("sec-fetch-site", "same-origin")
      .type("form")
      .send({ email: "alice@example.com", password: "correct horse battery staple", _csrf: csrf });
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe("/protected");

    const page = await agent.get("/protected");
    expect(page.text).toBe("Logged in as: alice@example.com");

    csrf = await csrfFrom(agent);
    const logout = await agent
      .post("/logout")
      .set("sec-fetch-site", "same-origin")
      .type("form")
      .send({ _csrf: csrf });
    expect(logout.text).toBe("Logged out");
    expect((await agent.get("/protected")).status).toBe(302);
  });
});

describe("README tutorial edge cases", () => {
  it("answers an over-long password and a body-less POST with a plain 401, not a 500", async () => {
    const { app } = createApp(SECRET);
    const agent = request.agent(app);
    const csrf = await csrfFrom(agent);
    const long = await agent
      .post("/login")
      .set("sec-fetch-site", "same-origin")
      .type("form")
      .send({ email: "nobody@example.com", password: "x".repeat(5000), _csrf: csrf });
    expect(long.status).toBe(401);
    const noBody = await agent.post("/login").set("sec-fetch-site", "same-origin").set("x-csrf-token", csrf);
    expect(noBody.status).toBe(401);
  });
});
