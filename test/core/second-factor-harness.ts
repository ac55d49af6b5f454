/**
 * An Express harness with routes for the second-factor tests of the core (issue 18): the password
 * step, the second step (with a code that can be held to force a race), the pending login, methods,
 * step-up guards, browserBinding and verifySecret.
 */
import { createHash } from "node:crypto";
import type { Express } from "express";
import type { AuthContext } from "login-manager";
import { secondFactorRequired } from "login-manager/express";
import type { Browser, User } from "./helpers.js";
import { Harness, T0 } from "./helpers.js";

/** The harness the routes below serve (set by {@link make}). */
let harness: Harness;

export const RIGHT_CODE = "123456";
/** POST /second-step with code "hold" waits until findOneTimeToken was called this many times. */
export const hold = { until: 0 };

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
export const MAX_FAILURES = 5;

function auth(req: { auth: unknown }): AuthContext<User> {
  return req.auth as AuthContext<User>;
}

function routes(app: Express): void {
  app.post("/password", async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const account = String(body.account);
    const result = await auth(req).attemptLogin({
      account,
      remember: body.remember === true,
      verify: async () => {
        const user = [...harness.users.values()].find((candidate) => candidate.name === account);
        return user && body.password === `${account}-password` ? user : null;
      },
    });
    const pending = auth(req).secondFactorPending;
    res.status(result.ok ? 200 : 401).json({ ...result, user: undefined, pending });
  });
  app.post("/second-step", async (req, res) => {
    const code = String((req.body as { code?: unknown }).code);
    const method = String((req.body as { method?: unknown }).method ?? "otp");
    const seen: unknown[] = [];
    const result = await auth(req).completeLogin({
      methods: [method],
      verify: async (pending) => {
        seen.push(pending);
        // "hold": stays inside the check until another request has looked its pending login up.
        if (code === "hold") await until(() => harness.probe.count("findOneTimeToken") >= hold.until);
        return code === RIGHT_CODE || code === "hold";
      },
    });
    if (result === null) res.status(410).json({ gone: true });
    else
      res
        .status(result.ok ? 200 : result.reason === "locked" ? 429 : 401)
        .json({ ...result, user: undefined, seen });
  });
  app.post("/cancel-then-complete", async (req, res) => {
    auth(req).cancelPendingLogin();
    const result = await auth(req).completeLogin({ methods: ["otp"], verify: async () => true });
    res.json({ result, pending: await auth(req).pendingLogin() });
  });
  app.get("/pending", async (req, res) => {
    res.json({ pending: await auth(req).pendingLogin() });
  });
  app.get("/methods", (req, res) => {
    res.json({ methods: auth(req).authMethods(), proven: auth(req).secondFactorProven() });
  });
  app.get("/binding", (req, res) => {
    res.json({ binding: auth(req).browserBinding() });
  });
  app.post("/reauth-code", async (req, res) => {
    let found: string | null = null;
    const result = await auth(req).attemptReauth({
      account: "Notch",
      verify: async () => {
        found = String((req.body as { kind?: unknown }).kind);
        return true;
      },
      methods: () => ["pwd", found as string],
    });
    res.json({ ok: result.ok });
  });
  app.post("/confirm-otp", async (req, res) => {
    res.json({ ok: await auth(req).confirmLogin(["otp"]) });
  });
  app.post("/login-methods", async (req, res) => {
    const body = req.body as { id: string; methods: string[] };
    const user = harness.users.get(String(body.id)) as User;
    res.json({
      ok: await auth(req).loginUser(user, { methods: body.methods }),
      pending: auth(req).secondFactorPending,
    });
  });
  app.post("/verify-secret", async (req, res) => {
    const body = req.body as { account: string; code: string };
    res.json(
      await auth(req).verifySecret({ account: body.account, verify: async () => body.code === RIGHT_CODE }),
    );
  });
  app.get("/step-up", secondFactorRequired(), (_req, res) => {
    res.send("stepped up");
  });
  app.get("/step-up-recent", secondFactorRequired({ withinSeconds: 600 }), (_req, res) => {
    res.send("stepped up recently");
  });
}

export async function withTotp(userId: string): Promise<void> {
  await harness.memory.createFactor({
    kind: "totp",
    id: userId,
    userId,
    label: "",
    data: "sealed",
    counter: 0,
    createdAt: T0,
    lastUsedAt: null,
  });
}

export function make(options: Record<string, unknown> = {}): Harness {
  harness = new Harness(
    {
      throttle: { maxAccountFailures: MAX_FAILURES },
      views: { loginView: "/login", refreshView: "/reauth" },
      ...options,
    },
    { routes },
  );
  return harness;
}

export async function passwordStep(browser: Browser, remember = false) {
  return browser.post("/password", { account: "Notch", password: "Notch-password", remember });
}

/** The counter key of an account's failure budget (the throttle hashes the name). */
export function accountKey(account: string): string {
  return `account:${createHash("sha256").update(account).digest("base64url")}`;
}
