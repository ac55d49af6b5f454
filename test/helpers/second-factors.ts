/**
 * Fixtures of the second-factor tests (src/mfa, src/passkeys): a manager on a MemoryStore that
 * records store calls, a fake clock, users, and `TestBrowser`, which keeps the cookies the manager
 * sets and makes each request's real AuthContext (logged in, restored from remember-me, or holding a
 * pending login after the password step).
 */
import type { AuthContext } from "../../src/core/auth-context.js";
import type { ResponseView } from "../../src/core/http.js";
import { LoginManager } from "../../src/core/manager.js";
import { UserMixin } from "../../src/core/users.js";
import { MemoryStore } from "../../src/stores/memory/index.js";
import { FakeClock, recordingStore, requestFrom } from "./recovery.js";

/** A user with a name (the account name logins count failures under). */
export class TestUser extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
  ) {
    super();
  }
}

/** The manager's default failure budget per account. */
export const ACCOUNT_BUDGET = 5;

/** A browser: the cookies the manager set, sent back with each request. */
export class TestBrowser {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly manager: LoginManager<TestUser>,
    readonly address = "198.51.100.7",
  ) {}

  /** A new request from this browser: its AuthContext. */
  request(): Promise<AuthContext<TestUser>> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const response: ResponseView = {
      setCookie: (name, serialized) => this.#absorb(name, serialized),
      setHeader: () => undefined,
    };
    return this.manager.authenticate(requestFrom(this.address, cookie ? { cookie } : {}), response);
  }

  #absorb(name: string, serialized: string): void {
    const value = serialized.slice(serialized.indexOf("=") + 1).split(";")[0] ?? "";
    if (/;\s*max-age=0/i.test(serialized) || value === "") this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}

/** A manager on a recording MemoryStore with ada (1) and bob (2). */
export function factorSetup(secret: string | string[] = "second-factor-test-secret-0123456789abcdef") {
  const clock = new FakeClock();
  const memory = new MemoryStore();
  const { store, calls, fail } = recordingStore(memory);
  const users = new Map<string, TestUser>([
    ["1", new TestUser("1", "ada")],
    ["2", new TestUser("2", "bob")],
  ]);
  const managerWith = (secrets: string | string[]) =>
    new LoginManager<TestUser>({ secret: secrets, store, clock, userLoader: (id) => users.get(id) ?? null });
  const manager = managerWith(secret);
  const userOf = (userId: string) => {
    const user = users.get(userId);
    if (!user) throw new Error(`no user ${userId}`);
    return user;
  };

  /** A request of a new browser where `userId` just logged in (fresh), proving `methods`. */
  const loggedIn = async (
    userId: string,
    methods: readonly string[] = ["pwd", "otp"],
    browser?: TestBrowser,
  ) => {
    const tab = browser ?? new TestBrowser(manager);
    const auth = await tab.request();
    if (!(await auth.loginUser(userOf(userId), { methods, remember: true }))) throw new Error("login failed");
    return { auth, browser: tab };
  };

  /** A request whose session was restored from remember-me: logged in, not fresh. */
  const restored = async (userId: string) => {
    const { browser } = await loggedIn(userId);
    browser.cookies.delete(manager.options.cookies.sessionName);
    const auth = await browser.request();
    if (auth.user.isAnonymous) throw new Error("not restored");
    return { auth, browser };
  };

  /** The next request of a browser whose password step for `userId` passed: a pending login. */
  const pendingFor = async (userId: string, remember = false) => {
    const browser = new TestBrowser(manager);
    const first = await browser.request();
    const user = userOf(userId);
    const result = await first.attemptLogin({ account: user.name, verify: async () => user, remember });
    if (result.ok || result.reason !== "second-factor")
      throw new Error(`no pending login: ${JSON.stringify(result)}`);
    return { auth: await browser.request(), browser };
  };

  return { clock, memory, store, calls, fail, users, manager, managerWith, loggedIn, restored, pendingFor };
}

/** What {@link factorSetup} returns. */
export type FactorSetup = ReturnType<typeof factorSetup>;

/** The method names an AuthContext's session records. */
export function methodsOf(auth: AuthContext<TestUser>): string[] {
  return auth.authMethods().map((proof) => proof.method);
}
