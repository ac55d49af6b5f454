// docs/guides/migrating.md ("Coming from Flask-Login or Passport"): its code blocks are written to a
// temporary folder exactly as the guide shows them, typechecked, imported and run against the users
// table the guide shows, whose hashes must be the real ones of test/fixtures/legacy-hashes.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Express } from "express";
import { type AuthUser, LoginManager } from "login-manager";
import { createPasswordHasher, type PasswordHasher } from "login-manager/password";
import { MemoryStore } from "login-manager/stores/memory";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD as APP_PASSWORD, startTestApp, TestBrowser } from "../../examples/app/test/helpers.js";
import { FORMER_OPTION_PATHS } from "../../src/core/option-paths.js";
import { Browser, expressClient } from "../adapters/harness.js";
import {
  BCRYPT_HASHES,
  type LegacyHashFixture,
  PASSWORD,
  SINGLE_ROUND_WERKZEUG_HASH,
  WERKZEUG_HASHES,
} from "../fixtures/legacy-hashes.js";
import { fencedFileBlock } from "../helpers/markdown.js";

const GUIDE = new URL("../../docs/guides/migrating.md", import.meta.url);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BLOCKS = ["migrating/login.ts", "migrating/maintenance.ts"] as const;
const SECRET = "migrating-guide-secret-0123456789abcdefghij";
const FIXTURES: readonly LegacyHashFixture[] = [
  ...BCRYPT_HASHES,
  ...WERKZEUG_HASHES,
  SINGLE_ROUND_WERKZEUG_HASH,
];

// Set-Cookie values of a Flask 2.2.2 + Flask-Login 0.6.2 app (Debian 12's python3-flask-login) after
// login_user(User("1"), remember=True), read from its test client; and an express-session cookie.
const OLD_APP_COOKIES = {
  session:
    ".eJwlzj0OwjAMQOG7eGawEydxe5kq_hOsLZ0QdycS-_uk94Ejz7iesL_POx5wvBx2sOS0mrWwWLGBOCyzKE8iQW7CKBv50E41ZvTGRqupU2Umkiq75LRuPnjhqmg5h4V31c3b8qWED8ds1bCgtupEMbsVIU8VWCP3Fef_huD7A-PgL_c.axRzrA.CCdF2xTPDP0O7_uAdIcXqr_BYu0",
  remember_token:
    "1|68c4ccb1de19417fd2e63d1a8fd2eba9d8974df0e5eb1290c80e9f0c2b68a256a41dddf9f2a38f2d0a46a1de0675352c4ecacdb0d7a103352d8ce95d65f0835d",
  "connect.sid": "s%3AbHm2Q0u3x9dW6p1rYVx7QyZ0nN4t8Kc1.4tQ6mJ1u0c1bq0lYl7v9b2Vw0qZ3s8xR5kP2eH7nA9c",
};

/** A user of the guide's `User` class. */
interface GuideUser extends AuthUser {
  readonly id: string;
  readonly email: string;
  readonly passwordHash: string;
}

/** The guide's `UserTable`. */
interface GuideUserTable {
  findById(id: string): Promise<GuideUser | null>;
  findByEmail(email: string): Promise<GuideUser | null>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
}

/** What the test uses of the guide's two files (the typecheck test checks the files themselves). */
interface GuideModules {
  login: {
    User: new (id: string, email: string, passwordHash: string) => GuideUser;
    hasher: PasswordHasher;
    createApp(secret: string, users: GuideUserTable): Express;
  };
  maintenance: {
    auditPasswordHashes(rows: Iterable<GuideRow>): {
      byFormat: Record<string, number>;
      unverifiable: { id: string; problem: string }[];
    };
    hashesToRetire(rows: Iterable<GuideRow>, cutoff: Date): string[];
    RETIRED_HASH: string;
  };
}

/** One row of the guide's users table. */
interface GuideRow {
  id: string;
  email: string;
  passwordHash: string;
  lastLoginAt: Date;
}

function guideRows(): GuideRow[] {
  const row = /^\| (\d+)\s+\| (\S+@example\.com)\s+\| `([^`]+)`\s+\|[^|]*\| (\d{4}-\d\d-\d\d) \|$/gm;
  return [...readFileSync(GUIDE, "utf8").matchAll(row)].map(
    ([, id = "", email = "", passwordHash = "", date]) => ({
      id,
      email,
      passwordHash,
      lastLoginAt: new Date(`${date}T00:00:00Z`),
    }),
  );
}

/** The guide's blocks in a temporary package that resolves login-manager and express to this checkout. */
function writeGuideFiles(): string {
  const dir = mkdtempSync(join(tmpdir(), "lm-migrating-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(ROOT, join(dir, "node_modules", "login-manager"), "dir");
  for (const dependency of ["express", "@types"]) {
    symlinkSync(join(ROOT, "node_modules", dependency), join(dir, "node_modules", dependency), "dir");
  }
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  for (const block of BLOCKS) {
    writeFileSync(join(dir, block.replace("migrating/", "")), fencedFileBlock(GUIDE, block));
  }
  return dir;
}

function typeErrors(dir: string): string[] {
  const files = BLOCKS.map((block) => join(dir, block.replace("migrating/", "")));
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    noUnusedLocals: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts"],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ["login-manager-source"],
    types: ["node"],
  });
  // Only the guide's files: an error inside the library is the library's tests' business.
  return ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.file?.fileName.startsWith(dir))
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
}

function csrfField(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!match?.[1]) throw new Error(`no CSRF field in: ${page}`);
  return match[1];
}

describe("docs/guides/migrating.md", () => {
  let dir: string;
  let guide: GuideModules;
  const hasher = createPasswordHasher();

  /** The guide's UserTable over the guide's rows, in memory. */
  function table(rows: GuideRow[]): { hashes: Map<string, string>; users: GuideUserTable } {
    const { User } = guide.login;
    const hashes = new Map(rows.map((row) => [row.id, row.passwordHash]));
    const toUser = (row: GuideRow | undefined) =>
      row ? new User(row.id, row.email, hashes.get(row.id) ?? "") : null;
    return {
      hashes,
      users: {
        findById: async (id: string) => toUser(rows.find((row) => row.id === id)),
        findByEmail: async (email: string) => toUser(rows.find((row) => row.email === email)),
        updatePasswordHash: async (id: string, passwordHash: string) => {
          hashes.set(id, passwordHash);
        },
      },
    };
  }

  beforeAll(async () => {
    dir = writeGuideFiles();
    guide = {
      login: await import(pathToFileURL(join(dir, "login.ts")).href),
      maintenance: await import(pathToFileURL(join(dir, "maintenance.ts")).href),
    };
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("typechecks its code under strict with nodenext", () => {
    expect(typeErrors(dir)).toEqual([]);
  }, 60_000);

  it("shows a users table of real hashes, each made from the password it names", async () => {
    const rows = guideRows();
    expect(rows.map((row) => row.id)).toEqual(["1", "2", "3", "4", "5"]);
    for (const row of rows) {
      const fixture = FIXTURES.find((candidate) => candidate.stored === row.passwordHash);
      expect(fixture, `row ${row.id} is not in test/fixtures/legacy-hashes.ts`).toBeDefined();
      expect(fixture?.password).toBe(PASSWORD);
    }
    expect(readFileSync(GUIDE, "utf8")).toContain(`\`${PASSWORD}\``);
  });

  it("links the README's Flask-Login table, whose heading exists", () => {
    const text = readFileSync(GUIDE, "utf8");
    expect(text).toContain("(../../README.md#flask-login--login-manager)");
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toMatch(/^## Flask-Login → login-manager$/m);
  });

  it("upgrades rows 1-4 to argon2id at their first successful login over HTTP; a wrong password changes nothing", async () => {
    const rows = guideRows();
    const { users, hashes } = table(rows);
    const app = expressClient(guide.login.createApp(SECRET, users));
    try {
      for (const row of rows.slice(0, 4)) {
        const before = row.passwordHash;
        const browser = new Browser(app);
        const _csrf = csrfField((await browser.get("/login")).text);
        const wrong = await browser.post("/login", {
          form: { email: row.email, password: `${PASSWORD}!`, _csrf },
        });
        expect(wrong.status).toBe(401);
        expect(hashes.get(row.id)).toBe(before);

        const login = await browser.post("/login", { form: { email: row.email, password: PASSWORD, _csrf } });
        expect(login.status).toBe(303);
        expect(login.headers.location).toBe("/account");
        const after = hashes.get(row.id) ?? "";
        expect(after.startsWith("$argon2id$v=19$m=19456,t=2,p=1$")).toBe(true);
        expect(hasher.needsRehash(after)).toBe(false);
        expect((await browser.get("/account")).text).toBe(`Signed in as ${row.email}`);

        const again = new Browser(app);
        const token = csrfField((await again.get("/login")).text);
        const next = await again.post("/login", {
          form: { email: row.email, password: PASSWORD, _csrf: token },
        });
        expect(next.status).toBe(303);
        expect(hashes.get(row.id)).toBe(after); // argon2id now: nothing left to upgrade
      }
    } finally {
      await app.close();
    }
  });

  it("refuses row 5's single-round Werkzeug hash even with the right password, and leaves it as it is", async () => {
    const rows = guideRows();
    const { users, hashes } = table(rows);
    const barbara = rows[4];
    if (!barbara) throw new Error("row 5 missing");
    const app = expressClient(guide.login.createApp(SECRET, users));
    try {
      const browser = new Browser(app);
      const _csrf = csrfField((await browser.get("/login")).text);
      const login = await browser.post("/login", {
        form: { email: barbara.email, password: PASSWORD, _csrf },
      });
      expect(login.status).toBe(401);
      expect(hashes.get(barbara.id)).toBe(barbara.passwordHash);
    } finally {
      await app.close();
    }
  });

  it("audits the table as the guide says", () => {
    const audit = guide.maintenance.auditPasswordHashes(guideRows());
    expect(audit.byFormat).toEqual({ bcrypt: 2, "werkzeug-scrypt": 1, "werkzeug-pbkdf2": 1, unknown: 1 });
    expect(audit.unverifiable).toEqual([
      {
        id: "5",
        problem: expect.stringMatching(/^The stored hash is in no format login-manager verifies: /),
      },
    ]);
    const text = readFileSync(GUIDE, "utf8");
    expect(text).toContain('byFormat: { bcrypt: 2, "werkzeug-scrypt": 1, "werkzeug-pbkdf2": 1, unknown: 1 }');
    expect(text).toContain(
      'unverifiable: [{ id: "5", problem: "The stored hash is in no format login-manager verifies: …" }]',
    );
  });

  it("retires rows 2, 4 and 5 for a cutoff of 2026-06-01, and no password verifies against RETIRED_HASH", async () => {
    const { hashesToRetire, RETIRED_HASH } = guide.maintenance;
    expect(hashesToRetire(guideRows(), new Date("2026-06-01T00:00:00Z"))).toEqual(["2", "4", "5"]);
    expect(readFileSync(GUIDE, "utf8")).toContain("(rows 2, 4 and 5 above, for a cutoff of\n   2026-06-01)");
    expect(await guide.login.hasher.verify(RETIRED_HASH, PASSWORD)).toBe(false);
    expect(await guide.login.hasher.verify(RETIRED_HASH, RETIRED_HASH)).toBe(false);
    expect(guide.login.hasher.inspect(RETIRED_HASH)).toMatchObject({ format: "unknown", verifiable: false });
    // Once only argon2id is left, legacy formats can be turned off.
    const argon2Only = createPasswordHasher({ legacyFormats: [] });
    expect(await argon2Only.verify(guideRows()[0]?.passwordHash ?? "", PASSWORD)).toBe(false);
  });

  it("treats the old app's session and remember cookies as unknown tokens: anonymous, no error", async () => {
    const { users } = table(guideRows());
    const app = expressClient(guide.login.createApp(SECRET, users));
    try {
      for (const [name, value] of Object.entries(OLD_APP_COOKIES)) {
        const browser = new Browser(app);
        browser.jar.set(name, value);
        const account = await browser.get("/account");
        expect(account.status, name).toBe(302);
        expect(account.headers.location).toBe("/login?next=%2Faccount");
      }
    } finally {
      await app.close();
    }
  });
});

/** The rows `| \`former\` | \`group.name\` |` of the guide's upgrade section. */
function upgradeRows(): [string, string][] {
  const text = readFileSync(GUIDE, "utf8");
  const section = text.slice(text.indexOf("\n## Upgrading from an earlier login-manager\n"));
  return [...section.matchAll(/^\| `(\w+)`\s+\| `(\w+\.\w+)`\s+\|$/gm)].map(([, former = "", path = ""]) => [
    former,
    path,
  ]);
}

describe("docs/guides/migrating.md: upgrading from the flat options", () => {
  it("maps every former flat option to its path, once", () => {
    const moved = Object.entries(FORMER_OPTION_PATHS).filter(([former, path]) => former !== path);
    const rows = upgradeRows();
    expect(new Set(rows.map(([former]) => former)).size).toBe(rows.length);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(moved));
  });

  it("shows the path the manager's own refusal of each former name gives", () => {
    for (const [former, path] of upgradeRows()) {
      const options = { secret: SECRET, store: new MemoryStore(), [former]: 1 };
      expect(() => new LoginManager(options as never), former).toThrow(
        new RegExp(`unknown option "${former}": did you mean "${path.replace(".", "\\.")}"\\?`),
      );
    }
  });
});

describe("the reference app (examples/app) upgrades migrated hashes at login", () => {
  it("logs in with a bcrypt or Werkzeug hash, stores argon2id instead, and logs in again with it", async () => {
    const app = await startTestApp();
    try {
      const migrated = [BCRYPT_HASHES[0], BCRYPT_HASHES[2], WERKZEUG_HASHES[0], WERKZEUG_HASHES[6]];
      for (const [index, fixture] of migrated.entries()) {
        if (!fixture) throw new Error("fixture missing");
        expect(fixture.password).toBe(APP_PASSWORD);
        const username = `migrated${index}`;
        const email = `${username}@example.com`;
        const user = await app.services.users.create({
          username,
          key: username,
          email,
          emailKey: email,
          passwordHash: fixture.stored,
        });
        expect(app.services.hasher.inspect(user.passwordHash).verifiable).toBe(true);
        expect((await new TestBrowser(app.baseUrl).login(username)).status).toBe(303);
        const after = (await app.services.users.findById(user.getId()))?.passwordHash ?? "";
        expect(after.startsWith("$argon2id$")).toBe(true);
        expect(app.services.hasher.needsRehash(after)).toBe(false);
        expect((await new TestBrowser(app.baseUrl).login(username)).status).toBe(303);
      }
    } finally {
      await app.close();
    }
  }, 60_000);
});
