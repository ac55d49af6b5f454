/**
 * The e-mail columns of both user repositories (issue 17): addresses unique regardless of case,
 * set verified only by `setVerifiedEmail`, and a table of the previous version (no e-mail columns)
 * brought up to date on first use with its users intact.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkEmail } from "../src/domain/email.js";
import { PostgresUserRepository } from "../src/domain/postgres-users.js";
import { SqliteUserRepository } from "../src/domain/sqlite-users.js";
import {
  DuplicateEmailError,
  DuplicateUsernameError,
  type NewUser,
  type UserRepository,
} from "../src/domain/users.js";
import { createSchema, describeIfServices } from "./scale-out/support.js";

function newUser(username: string, email: string): NewUser {
  const checked = checkEmail(email);
  if (!checked.ok) throw new Error(`bad test address ${email}`);
  return { username, key: username.toLowerCase(), email, emailKey: checked.value.key, passwordHash: "h" };
}

/** What both repositories must do with addresses. */
function emailContract(repository: () => UserRepository): void {
  it("stores the address as typed, unverified, and finds it by its key", async () => {
    const users = repository();
    const ada = await users.create(newUser("ada", "Ada@Example.com"));
    expect(ada).toMatchObject({ username: "ada", email: "Ada@Example.com", emailVerified: false });
    expect((await users.findByEmail("ada@example.com"))?.id).toBe(ada.id);
    expect(await users.findByEmail("nobody@example.com")).toBeNull();
  });

  it("refuses a second account with the same address in another case, and tells the two duplicates apart", async () => {
    const users = repository();
    await users.create(newUser("grace", "grace@example.com"));
    await expect(users.create(newUser("grace2", "GRACE@example.COM"))).rejects.toBeInstanceOf(
      DuplicateEmailError,
    );
    await expect(users.create(newUser("grace", "other@example.com"))).rejects.toBeInstanceOf(
      DuplicateUsernameError,
    );
  });

  it("sets a verified address, refusing one another account has", async () => {
    const users = repository();
    const alan = await users.create(newUser("alan", "alan@example.com"));
    const joan = await users.create(newUser("joan", "joan@example.com"));
    await users.setVerifiedEmail(alan.id, { email: "alan@example.com", key: "alan@example.com" });
    expect(await users.findById(alan.getId())).toMatchObject({
      email: "alan@example.com",
      emailVerified: true,
    });
    await users.setVerifiedEmail(alan.id, { email: "Turing@example.org", key: "turing@example.org" });
    expect(await users.findByEmail("turing@example.org")).toMatchObject({ id: alan.id, emailVerified: true });
    expect(await users.findByEmail("alan@example.com")).toBeNull();
    await expect(
      users.setVerifiedEmail(joan.id, { email: "turing@example.org", key: "turing@example.org" }),
    ).rejects.toBeInstanceOf(DuplicateEmailError);
  });
}

describe("SqliteUserRepository", () => {
  const dirs: string[] = [];
  const open = () => {
    const dir = mkdtempSync(join(tmpdir(), "lm-users-"));
    dirs.push(dir);
    return new DatabaseSync(join(dir, "app.db"));
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  emailContract(() => new SqliteUserRepository(open()));

  it("adds the e-mail columns to a table of the previous version, keeping its users", async () => {
    const db = open();
    db.exec(`CREATE TABLE users (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      username TEXT NOT NULL,
      username_key TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
      created_at INTEGER NOT NULL
    )`);
    db.prepare(
      "INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, ?, ?)",
    ).run("Old", "old", "hash", 1);
    const users = new SqliteUserRepository(db);
    expect(await users.findByKey("old")).toMatchObject({
      username: "Old",
      email: null,
      emailVerified: false,
    });
    await users.create(newUser("new", "new@example.com"));
    // A second start (another process on the same file) changes nothing.
    const again = new SqliteUserRepository(db);
    expect((await again.findByEmail("new@example.com"))?.username).toBe("new");
    const old = await again.findByKey("old");
    await again.setVerifiedEmail(old?.id ?? 0, { email: "old@example.com", key: "old@example.com" });
    expect(await again.findByEmail("old@example.com")).toMatchObject({
      username: "Old",
      emailVerified: true,
    });
  });
});

await describeIfServices(["postgres"], "PostgresUserRepository", () => {
  const schemas: Array<Awaited<ReturnType<typeof createSchema>>> = [];
  let shared: Awaited<ReturnType<typeof createSchema>>;
  beforeAll(async () => {
    shared = await createSchema("users_email");
    schemas.push(shared);
  });
  afterAll(async () => {
    for (const schema of schemas) await schema.drop();
  });

  emailContract(() => new PostgresUserRepository(shared.pool, { schema: shared.name }));

  it("adds the e-mail columns to a table of the previous version, keeping its users", async () => {
    const schema = await createSchema("users_v1");
    schemas.push(schema);
    const table = `"${schema.name}"."users"`;
    await schema.pool.query(`CREATE TABLE ${table} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      username text NOT NULL,
      username_key text NOT NULL UNIQUE,
      password_hash text NOT NULL,
      active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await schema.pool.query(
      `INSERT INTO ${table} (username, username_key, password_hash) VALUES ('Old', 'old', 'h')`,
    );
    const users = new PostgresUserRepository(schema.pool, { schema: schema.name });
    expect(await users.findByKey("old")).toMatchObject({
      username: "Old",
      email: null,
      emailVerified: false,
    });
    await users.create(newUser("new", "new@example.com"));
    await expect(users.create(newUser("newer", "NEW@example.com"))).rejects.toBeInstanceOf(
      DuplicateEmailError,
    );
    // Another instance starting on the migrated table changes nothing.
    const again = new PostgresUserRepository(schema.pool, { schema: schema.name });
    expect((await again.findByEmail("new@example.com"))?.username).toBe("new");
    const columns = await schema.pool.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'users' ORDER BY ordinal_position",
      [schema.name],
    );
    expect(columns.rows.map((row) => row.column_name)).toEqual([
      "id",
      "username",
      "username_key",
      "password_hash",
      "active",
      "created_at",
      "email",
      "email_key",
      "email_verified",
    ]);
  });
});
