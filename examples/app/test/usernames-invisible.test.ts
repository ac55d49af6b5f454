/**
 * Issue 16.3: invisible characters made a copy of an existing username: "name" + U+034F, U+3164,
 * U+FE0F, U+FE00, U+180B, U+E0100, U+17B4, U+17B5, U+115F or U+1160 registered and displayed like the
 * original. Registration now applies RFC 8265 (login-manager's prepareUsername) on every framework.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailFor, FRAMEWORKS, PASSWORD, startTestApp, type TestApp, TestBrowser } from "./helpers.js";

const INVISIBLE = [0x034f, 0x3164, 0xfe0f, 0xfe00, 0x180b, 0xe0100, 0x17b4, 0x17b5, 0x115f, 0x1160];

describe.each(FRAMEWORKS)(
  "%s: registering a look-alike of an existing username [checklist 78]",
  (framework) => {
    let app: TestApp;

    beforeAll(async () => {
      app = await startTestApp({ framework, env: { REGISTER_ATTEMPTS_PER_HOUR: "100" } });
      const first = await new TestBrowser(app.baseUrl).submit("/register", "/register", {
        username: "name",
        email: emailFor("name"),
        password: PASSWORD,
      });
      expect(first.status).toBe(303);
    });
    afterAll(async () => {
      await app.close();
    });

    it.each(INVISIBLE.map((codePoint) => [`U+${codePoint.toString(16).toUpperCase()}`, codePoint]))(
      "refuses name + %s with 400 and creates no account",
      async (_label, codePoint) => {
        const lookAlike = `name${String.fromCodePoint(codePoint)}`;
        const response = await new TestBrowser(app.baseUrl).submit("/register", "/register", {
          username: lookAlike,
          email: emailFor(lookAlike),
          password: PASSWORD,
        });
        expect(response.status).toBe(400);
        expect(response.text).toContain("invisible characters");
        expect(await app.services.users.findByKey(lookAlike)).toBeNull();
      },
    );

    it("still registers names in other scripts", async () => {
      const response = await new TestBrowser(app.baseUrl).submit("/register", "/register", {
        username: "\ud55c\uad6d\uc5b4",
        email: emailFor("\ud55c\uad6d\uc5b4"),
        password: PASSWORD,
      });
      expect(response.status).toBe(303);
    });
  },
);
