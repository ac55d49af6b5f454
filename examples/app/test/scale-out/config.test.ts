/**
 * The scale-out settings: DATABASE_URL, DATABASE_SCHEMA, DATABASE_POOL_MAX, REDIS_URL,
 * REDIS_KEY_PREFIX, STORE_CONNECT_TIMEOUT_MS, STORE_TIMEOUT_MS. No server needed.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/domain/config.js";

const SECRET = "k".repeat(40);

describe("scale-out settings", () => {
  it("keeps everything in SQLite when neither URL is set", () => {
    const config = parseConfig({});
    expect(config.database).toBeUndefined();
    expect(config.redis).toBeUndefined();
  });

  it("has defaults for the connection settings", () => {
    const config = parseConfig({
      SECRET_KEY: SECRET,
      DATABASE_URL: "postgres://app:pw@db.internal:5432/app",
      REDIS_URL: "redis://cache.internal:6379",
    });
    expect(config.database).toEqual({
      url: "postgres://app:pw@db.internal:5432/app",
      schema: "public",
      poolMax: 10,
      connectTimeoutMs: 2000,
      timeoutMs: 3000,
    });
    expect(config.redis).toEqual({
      url: "redis://cache.internal:6379",
      keyPrefix: "lm:",
      connectTimeoutMs: 2000,
      timeoutMs: 3000,
    });
  });

  it("reads every setting", () => {
    const config = parseConfig({
      SECRET_KEY: SECRET,
      DATABASE_URL: "postgresql://app@db/app?sslmode=require",
      DATABASE_SCHEMA: "tenant_a",
      DATABASE_POOL_MAX: "25",
      REDIS_URL: "rediss://:secret@cache:6380/2",
      REDIS_KEY_PREFIX: "myapp:{lm}:",
      STORE_CONNECT_TIMEOUT_MS: "500",
      STORE_TIMEOUT_MS: "1500",
    });
    expect(config.database).toEqual({
      url: "postgresql://app@db/app?sslmode=require",
      schema: "tenant_a",
      poolMax: 25,
      connectTimeoutMs: 500,
      timeoutMs: 1500,
    });
    expect(config.redis).toEqual({
      url: "rediss://:secret@cache:6380/2",
      keyPrefix: "myapp:{lm}:",
      connectTimeoutMs: 500,
      timeoutMs: 1500,
    });
  });

  it("requires a shared SECRET_KEY once a database or Redis is shared", () => {
    for (const env of [{ DATABASE_URL: "postgres://db/app" }, { REDIS_URL: "redis://cache" }]) {
      expect(() => parseConfig(env)).toThrow(ConfigError);
      try {
        parseConfig(env);
      } catch (error) {
        expect((error as ConfigError).setting).toBe("SECRET_KEY");
        expect((error as Error).message).toMatch(/same key/);
      }
    }
  });

  it.each([
    ["DATABASE_URL", "mysql://db/app"],
    ["DATABASE_URL", "not a url"],
    ["REDIS_URL", "http://cache:6379"],
    ["DATABASE_SCHEMA", "Tenant-A"],
    ["DATABASE_SCHEMA", "1abc"],
    ["DATABASE_POOL_MAX", "0"],
    ["DATABASE_POOL_MAX", "ten"],
    ["REDIS_KEY_PREFIX", "has space"],
    ["STORE_CONNECT_TIMEOUT_MS", "50"],
    ["STORE_CONNECT_TIMEOUT_MS", "-1"],
    ["STORE_TIMEOUT_MS", "2s"],
  ])("refuses %s=%s, naming the setting", (setting, value) => {
    const env = { SECRET_KEY: SECRET, DATABASE_URL: "postgres://db/app", [setting]: value };
    try {
      parseConfig(env);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).setting).toBe(setting);
      expect((error as Error).message.startsWith(`${setting} `)).toBe(true);
    }
  });

  it("never repeats a bad URL (it may hold a password)", () => {
    try {
      parseConfig({ SECRET_KEY: SECRET, DATABASE_URL: "mysql://root:hunter2@db/app" });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain("hunter2");
      expect((error as Error).message).toContain("mysql://");
    }
  });

  it("stops the server with exit code 1 and a one-line message naming the setting", async () => {
    const root = fileURLToPath(new URL("../../../..", import.meta.url));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=login-manager-source", join(root, "examples/app/src/server.ts")],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? "",
          PORT: "0",
          SECRET_KEY: SECRET,
          DATABASE_URL: "postgres://127.0.0.1:1/app",
          DATABASE_POOL_MAX: "lots",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^Configuration error: DATABASE_POOL_MAX must be a whole number/);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });
});
