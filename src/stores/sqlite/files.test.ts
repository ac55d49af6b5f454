import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SQLITE_TEST_DRIVERS } from "../../../test/drivers/sqlite.js";
import { hashToken, randomToken } from "../../core/tokens.js";
import { SqliteStore } from "./index.js";

const T0 = 2_000_000_000_000;
const GUIDE_LINE = 'new SqliteStore({ database: "data/app.db" })';

it("runs the constructor call that docs/guides/store-sqlite.md shows (below, on each driver)", () => {
  const guide = readFileSync(new URL("../../../docs/guides/store-sqlite.md", import.meta.url), "utf8");
  expect(guide).toContain(GUIDE_LINE);
});

describe.each(SQLITE_TEST_DRIVERS.map((driver) => [driver.label, driver] as const))(
  "SqliteStore files, %s",
  (_label, driver) => {
    let dir: string;
    const stores: SqliteStore[] = [];

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "login-manager-sqlite-files-"));
    });

    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    function store(database: string): SqliteStore {
      const created = new SqliteStore({ database, driver: driver.name });
      stores.push(created);
      return created;
    }

    it("creates the missing folders of the path, readable by their owner only", async () => {
      const path = join(dir, "data", "nested", "app.db");
      const sqlite = store(path);
      expect(existsSync(join(dir, "data"))).toBe(false); // nothing happens in the constructor
      await sqlite.initialize();
      expect(statSync(path).isFile()).toBe(true);
      expect(statSync(join(dir, "data")).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, "data", "nested")).mode & 0o777).toBe(0o700);
    });

    it(`works as the guide shows it in a fresh project: ${GUIDE_LINE}`, async () => {
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        const sqlite = store("data/app.db");
        await sqlite.createRememberToken({
          selector: randomToken(),
          validatorHash: hashToken("v"),
          previousValidatorHash: null,
          rotatedAt: T0,
          rotatedBy: "",
          userId: "42",
          createdAt: T0,
          expiresAt: T0 + 1000,
        });
      } finally {
        process.chdir(cwd);
      }
      expect(statSync(join(dir, "data", "app.db")).isFile()).toBe(true);
    });

    it("leaves an existing folder as it is", async () => {
      mkdirSync(join(dir, "shared"));
      chmodSync(join(dir, "shared"), 0o755);
      await store(join(dir, "shared", "app.db")).initialize();
      expect(statSync(join(dir, "shared")).mode & 0o777).toBe(0o755);
    });

    it("reports a path whose folder cannot be created as an unavailable StoreError, on use rather than in the constructor", async () => {
      writeFileSync(join(dir, "a-file"), "");
      const sqlite = store(join(dir, "a-file", "sessions.db"));
      await expect(sqlite.getSession(randomToken(), T0)).rejects.toMatchObject({
        code: "ERR_STORE_UNAVAILABLE",
        unavailable: true,
      });
    });

    it("reports a path that SQLite cannot open (a folder) as an unavailable StoreError", async () => {
      mkdirSync(join(dir, "a-folder"));
      await expect(store(join(dir, "a-folder")).initialize()).rejects.toMatchObject({
        code: "ERR_STORE_UNAVAILABLE",
        message: expect.stringContaining("a-folder"),
      });
    });

    it("reports a file that is not a database as an unavailable StoreError whose cause is the driver's", async () => {
      const path = join(dir, "not-a-database.db");
      writeFileSync(path, "this is not an SQLite file, and it is longer than a header would be ".repeat(20));
      const error = await store(path)
        .initialize()
        .then(
          () => null,
          (caught: unknown) => caught,
        );
      expect(error).toMatchObject({ code: "ERR_STORE_UNAVAILABLE", unavailable: true });
      expect((error as Error).cause).toBeInstanceOf(driver.errorClass);
      expect((error as Error).message).toMatch(/not a database/);
    });

    it("opens :memory: without touching the file system", async () => {
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        await store(":memory:").initialize();
        expect(existsSync(join(dir, ":memory:"))).toBe(false);
      } finally {
        process.chdir(cwd);
      }
    });
  },
);
