import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../../core/errors.js";
import { showValue } from "../../core/option-names.js";
import { SqliteStore } from "./index.js";

const KNOWN = "Known options: database, driver, tablePrefix, sweepIntervalSeconds, clock, onSweepError.";

/** The error `new SqliteStore(options)` throws (the test fails when it throws none). */
function constructionError(options: unknown): ConfigurationError {
  try {
    new SqliteStore(options as never);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error(`new SqliteStore(${JSON.stringify(options)}) did not throw`);
}

describe("SqliteStore's option names", () => {
  it.each([
    ["tablePrefx", "tablePrefix"],
    ["TablePrefix", "tablePrefix"],
    ["table_prefix", "tablePrefix"],
    ["prefix", "tablePrefix"],
    ["drvier", "driver"],
    ["databse", "database"],
    ["sweepInterval", "sweepIntervalSeconds"],
    ["sweepIntervalSecs", "sweepIntervalSeconds"],
    ["sweepIntervalMs", "sweepIntervalSeconds"],
    ["onSweepErorr", "onSweepError"],
    ["clok", "clock"],
    ["path", "database"],
    ["filename", "database"],
    ["onError", "onSweepError"],
  ])("refuses %j at construction, suggesting %j", (name, suggestion) => {
    const error = constructionError({ database: ":memory:", [name]: "x" });
    expect(error.code).toBe("ERR_CONFIGURATION");
    expect(error.message).toBe(
      `SqliteStore: unknown option ${JSON.stringify(name)}: did you mean ${JSON.stringify(suggestion)}? ${KNOWN}`,
    );
  });

  it("refuses a name close to none, listing the known ones without a guess", () => {
    expect(constructionError({ database: ":memory:", colour: "blue" }).message).toBe(
      `SqliteStore: unknown option "colour". ${KNOWN}`,
    );
  });

  it("refuses an unknown name even when its value is undefined", () => {
    expect(constructionError({ database: ":memory:", tablePrefx: undefined }).message).toMatch(
      /unknown option "tablePrefx": did you mean "tablePrefix"\?/,
    );
  });

  it("checks the names before anything else: no file or folder is created", () => {
    const dir = mkdtempSync(join(tmpdir(), "login-manager-sqlite-options-"));
    try {
      constructionError({
        database: join(dir, "data", "app.db"),
        driver: "node:sqlite",
        tablePrefx: "auth_",
      });
      expect(existsSync(join(dir, "data"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("accepts every known name", async () => {
    const store = new SqliteStore({
      database: ":memory:",
      driver: "node:sqlite",
      tablePrefix: "auth_",
      sweepIntervalSeconds: 60,
      clock: { now: () => 0 },
      onSweepError: () => undefined,
    });
    await store.close();
  });
});

describe("SqliteStore's option values in messages, shown as given", () => {
  it.each([
    [{ database: ":memory:", sweepIntervalSeconds: "1800" }, '(got "1800")'],
    [{ database: ":memory:", sweepIntervalSeconds: Number.NaN }, "(got NaN)"],
    [{ database: ":memory:", sweepIntervalSeconds: 0 }, "(got 0)"],
    [{ database: ":memory:", sweepIntervalSeconds: null }, "(got null)"],
    [{ database: ":memory:", tablePrefix: 12 }, "tablePrefix 12 is invalid"],
    [{ database: ":memory:", tablePrefix: "1x" }, 'tablePrefix "1x" is invalid'],
    [{ database: ":memory:", driver: 3 }, "(got 3)"],
    [{ database: ":memory:", driver: "3" }, '(got "3")'],
    [{ database: ":memory:", driver: () => "node:sqlite" }, "(got a function)"],
    [{ database: 42 }, "(got 42)"],
    [{ database: ["data/app.db"] }, '(got ["data/app.db"])'],
    [{}, "(got undefined)"],
    [{ database: ":memory:", onSweepError: "log" }, '(got "log")'],
    [{ database: ":memory:", clock: 1_700_000_000_000 }, "(got 1700000000000)"],
  ])("%j: %s", (options, shown) => {
    expect(constructionError(options).message).toContain(shown);
  });

  it.each([null, "data/app.db", ["data/app.db"]])("refuses %j as the options object", (options) => {
    expect(constructionError(options).message).toMatch(/^SqliteStore: pass an options object, .*\(got /);
    expect(constructionError(options).message).toContain(`(got ${showValue(options)})`);
  });
});

describe("SqliteStore's sweep options", () => {
  it("refuses a sweepIntervalSeconds a Node.js timer cannot wait (it would fire every millisecond)", () => {
    expect(constructionError({ database: ":memory:", sweepIntervalSeconds: 3_000_000 }).message).toMatch(
      /sweepIntervalSeconds must be a number of seconds above 0 and at most 2147483 \(got 3000000\)/,
    );
  });

  it("accepts the longest interval a timer can wait", async () => {
    await new SqliteStore({ database: ":memory:", sweepIntervalSeconds: 2_147_483 }).close();
  });

  it.each([[Date.now], [{}], [{ now: 5 }], ["system"]])(
    "refuses clock %j that has no now() method",
    (clock) => {
      expect(constructionError({ database: ":memory:", clock }).message).toMatch(
        /^SqliteStore: clock must be an object with a now\(\) method/,
      );
    },
  );

  it("checks clock and onSweepError even without a sweep interval", () => {
    expect(constructionError({ database: ":memory:", onSweepError: true }).message).toMatch(
      /^SqliteStore: onSweepError must be a function \(got true\)/,
    );
  });
});
