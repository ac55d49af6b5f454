/**
 * Fixtures of the account-recovery tests (src/recovery): a manager on a MemoryStore that records
 * every store call, a fake clock, users with addresses, request views and a login helper.
 */
import { expect } from "vitest";
import { AuthContext } from "../../src/core/auth-context.js";
import type { RequestView, ResponseView } from "../../src/core/http.js";
import { LoginManager } from "../../src/core/manager.js";
import type { SessionStore } from "../../src/core/store.js";
import { UserMixin } from "../../src/core/users.js";
import type { AccountLinkMessage } from "../../src/recovery/account-links.js";
import { PasswordReset, type PasswordResetOptions } from "../../src/recovery/password-reset.js";
import { MemoryStore } from "../../src/stores/memory/index.js";

/** The fake clock's start: 2026-01-01T12:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1, 12);

/** A user with an address. */
export class MailUser extends UserMixin {
  constructor(
    readonly id: string,
    public email: string,
  ) {
    super();
  }
}

/** A clock the tests move by hand. */
export class FakeClock {
  t = T0;
  readonly now = (): number => this.t;
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

/** One store call: the method and its arguments. */
export interface StoreCall {
  method: string;
  args: unknown[];
}

/** A MemoryStore behind a proxy that records every call, and can be made to fail. */
export function recordingStore(memory: MemoryStore): {
  store: SessionStore;
  calls: StoreCall[];
  fail: Set<string>;
} {
  const calls: StoreCall[] = [];
  const fail = new Set<string>();
  const store = new Proxy(memory, {
    get: (target, property, receiver) => {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push({ method: String(property), args });
        if (fail.has(String(property))) return Promise.reject(new Error(`store down (${String(property)})`));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls, fail };
}

/** A manager on a recording MemoryStore with two users, ada (1) and bob (2). */
export function recoverySetup() {
  const clock = new FakeClock();
  const memory = new MemoryStore();
  const { store, calls, fail } = recordingStore(memory);
  const users = new Map<string, MailUser>([
    ["1", new MailUser("1", "ada@example.com")],
    ["2", new MailUser("2", "bob@example.com")],
  ]);
  const manager = new LoginManager<MailUser>({
    secret: "recovery-test-secret-0123456789abcdef0123",
    store,
    clock,
    userLoader: (id) => users.get(id) ?? null,
  });
  const byEmail = async (email: string) =>
    [...users.values()].find((user) => user.email === email.trim().toLowerCase()) ?? null;
  const byId = async (id: string) => users.get(id) ?? null;
  return { clock, memory, store, calls, fail, users, manager, byEmail, byId };
}

/** A request view from `address`, with optional headers (e.g. a cookie). */
export function requestFrom(address = "203.0.113.9", headers: Record<string, string> = {}): RequestView {
  return {
    method: "POST",
    url: "/password/forgot",
    header: (name) => headers[name],
    remoteAddress: address,
    encrypted: false,
    formField: () => undefined,
  };
}

/** A response view that keeps the cookies set. */
export function responseRecorder(): ResponseView & { cookies: Map<string, string> } {
  const cookies = new Map<string, string>();
  return {
    cookies,
    setCookie: (name, serialized) => cookies.set(name, serialized),
    setHeader: () => undefined,
  };
}

/** Logs `user` in on a new request (with remember-me); returns the request's context. */
export async function logIn(manager: LoginManager<MailUser>, user: MailUser): Promise<AuthContext<MailUser>> {
  const auth = await manager.authenticate(requestFrom("198.51.100.7"), responseRecorder());
  if (!(auth instanceof AuthContext) || !(await auth.loginUser(user, { remember: true }))) {
    throw new Error("login failed");
  }
  return auth;
}

/** What {@link recoverySetup} returns. */
export type Setup = ReturnType<typeof recoverySetup>;

/** A PasswordReset on the setup whose mails are kept in `mails`. */
export function resetOf(setup: Setup, options: Partial<PasswordResetOptions<MailUser>> = {}) {
  const mails: AccountLinkMessage<MailUser>[] = [];
  const reset = new PasswordReset(setup.manager, {
    findUserByEmail: setup.byEmail,
    findUserById: setup.byId,
    sendResetMail: async (message) => {
      mails.push(message);
    },
    ...options,
  });
  return { reset, mails };
}

/** Requests a link for ada and returns its token. */
export async function linkForAda(reset: PasswordReset<MailUser>, mails: AccountLinkMessage<MailUser>[]) {
  expect(await reset.request({ email: "ada@example.com", request: requestFrom() })).toEqual({ ok: true });
  await reset.deliveriesSettled();
  const mail = mails.at(-1);
  if (!mail) throw new Error("no mail was sent");
  return mail.token;
}
