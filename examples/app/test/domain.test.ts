import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadCommonPasswords, parseCommonPasswords } from "../src/domain/common-passwords.js";
import { ConfigError, parseConfig } from "../src/domain/config.js";
import { checkEmail, emailKey } from "../src/domain/email.js";
import {
  APP_CONTEXT_WORDS,
  checkNewPassword,
  checkUsername,
  containedContextWord,
  contextWords,
  MIN_CONTAINED_WORD_LENGTH,
  siteName,
  skeleton,
  usernameKey,
} from "../src/domain/policy.js";
import { loadOrCreateSecret } from "../src/domain/secret.js";
import { describeUserAgent } from "../src/domain/user-agent.js";

describe("parseConfig", () => {
  it("has working defaults", () => {
    const config = parseConfig({}, "/srv/app");
    expect(config).toEqual({
      production: false,
      baseUrl: "http://127.0.0.1:5000",
      mail: {
        smtpUrl: undefined,
        from: "login-manager demo <no-reply@localhost>",
        resetTokenTtlSeconds: 1800,
      },
      host: "127.0.0.1",
      port: 5000,
      dataDir: resolve("/srv/app", "data"),
      secretKey: undefined,
      sessionProtection: "basic",
      idleTimeoutSeconds: 1800,
      absoluteTimeoutSeconds: 43_200,
      rememberDurationSeconds: 2_592_000,
      trustProxyHops: 0,
      registerAttemptsPerHour: 10,
    });
  });

  it("reads every setting", () => {
    const config = parseConfig(
      {
        HOST: "[::1]",
        PORT: "8080",
        DATA_DIR: "/var/lib/app",
        SECRET_KEY: "k".repeat(40),
        SESSION_PROTECTION: "off",
        SESSION_IDLE_TIMEOUT_SECONDS: "600",
        SESSION_ABSOLUTE_TIMEOUT_SECONDS: "3600",
        REMEMBER_DURATION_SECONDS: "86400",
        TRUST_PROXY: "2",
        REGISTER_ATTEMPTS_PER_HOUR: "50",
      },
      "/",
    );
    expect(config).toMatchObject({
      host: "::1",
      port: 8080,
      dataDir: "/var/lib/app",
      sessionProtection: false,
      idleTimeoutSeconds: 600,
      absoluteTimeoutSeconds: 3600,
      rememberDurationSeconds: 86_400,
      trustProxyHops: 2,
      registerAttemptsPerHour: 50,
    });
  });

  it.each([
    ["PORT", "http"],
    ["PORT", "70000"],
    ["PORT", "-1"],
    ["HOST", "bad host/"],
    ["SECRET_KEY", "too-short"],
    ["SESSION_PROTECTION", "maybe"],
    ["SESSION_IDLE_TIMEOUT_SECONDS", "1.5"],
    ["SESSION_ABSOLUTE_TIMEOUT_SECONDS", "0"],
    ["REMEMBER_DURATION_SECONDS", "forever"],
    ["TRUST_PROXY", "true"],
    ["REGISTER_ATTEMPTS_PER_HOUR", "0"],
    ["BREACHED_PASSWORD_API_URL", "ftp://example.org"],
    ["BREACHED_PASSWORD_API_URL", "api.pwnedpasswords.com"],
    ["BREACHED_PASSWORD_TIMEOUT_MS", "50"],
    ["BREACHED_PASSWORD_TIMEOUT_MS", "20000"],
    ["SMTP_URL", "mail.example.com:587"],
    ["SMTP_URL", "http://mail.example.com"],
    ["MAIL_FROM", "no address"],
    ["MAIL_FROM", "Demo <no-reply@example.com>, other@example.com"],
    ["MAIL_FROM", "Demo\r\nBcc: x@example.com <no-reply@example.com>"],
    ["RESET_TOKEN_TTL_SECONDS", "30"],
    ["RESET_TOKEN_TTL_SECONDS", "100000"],
  ])("names %s when it is %j", (setting, value) => {
    expect(() => parseConfig({ [setting]: value })).toThrow(ConfigError);
    try {
      parseConfig({ [setting]: value });
    } catch (error) {
      expect((error as ConfigError).setting).toBe(setting);
      expect((error as Error).message.startsWith(setting)).toBe(true);
    }
  });

  it("turns the breached-password check on only with BREACHED_PASSWORD_API_URL, with a 2 s timeout", () => {
    expect(parseConfig({}).breachedPasswords).toBeUndefined();
    expect(parseConfig({ BREACHED_PASSWORD_TIMEOUT_MS: "500" }).breachedPasswords).toBeUndefined();
    expect(
      parseConfig({ BREACHED_PASSWORD_API_URL: "https://api.pwnedpasswords.com" }).breachedPasswords,
    ).toEqual({
      url: "https://api.pwnedpasswords.com",
      timeoutMs: 2000,
    });
    expect(
      parseConfig({
        BREACHED_PASSWORD_API_URL: "http://10.0.0.5:8080/hibp",
        BREACHED_PASSWORD_TIMEOUT_MS: "750",
      }).breachedPasswords,
    ).toEqual({ url: "http://10.0.0.5:8080/hibp", timeoutMs: 750 });
  });

  it("reads the mail settings; SMTP_URL's password is never repeated in a message", () => {
    const config = parseConfig({
      SMTP_URL: "smtps://mailer:s3cret@mail.example.com:465",
      MAIL_FROM: "Example Accounts <accounts@example.com>",
      RESET_TOKEN_TTL_SECONDS: "900",
      APP_BASE_URL: "https://app.example.com/",
    });
    expect(config.mail).toEqual({
      smtpUrl: "smtps://mailer:s3cret@mail.example.com:465",
      from: "Example Accounts <accounts@example.com>",
      resetTokenTtlSeconds: 900,
    });
    expect(config.baseUrl).toBe("https://app.example.com");
    expect(parseConfig({ APP_BASE_URL: "https://app.example.com" }).mail.from).toBe(
      "login-manager demo <no-reply@app.example.com>",
    );
    expect(() => parseConfig({ SMTP_URL: "ftp://mailer:s3cret@mail.example.com" })).toThrow(
      /^SMTP_URL must be a URL like smtp:\/\/user:password@mail\.example\.com:587 \(got ftp:\/\/…\)$/,
    );
  });

  it("builds mail links from the address it listens on outside production, when APP_BASE_URL is unset", () => {
    expect(parseConfig({ PORT: "8080" }).baseUrl).toBe("http://127.0.0.1:8080");
    expect(parseConfig({ HOST: "::1" }).baseUrl).toBe("http://[::1]:5000");
    expect(parseConfig({ HOST: "0.0.0.0", ALLOWED_HOSTS: "app.example.com" }).baseUrl).toBe(
      "http://localhost:5000",
    );
  });

  it("stops start-up in production without SMTP_URL or APP_BASE_URL, naming the setting", () => {
    const production = { NODE_ENV: "production", SECRET_KEY: "k".repeat(40) };
    expect(() => parseConfig({ ...production, SMTP_URL: "smtp://mail.example.com" })).toThrow(
      /^APP_BASE_URL is required in production/,
    );
    expect(() => parseConfig({ ...production, APP_BASE_URL: "https://app.example.com" })).toThrow(
      /^SMTP_URL is required in production/,
    );
    const config = parseConfig({
      ...production,
      APP_BASE_URL: "https://app.example.com",
      SMTP_URL: "smtp://mail.example.com:587",
    });
    expect(config.production).toBe(true);
    expect(config.mail.smtpUrl).toBe("smtp://mail.example.com:587");
  });

  it("refuses an idle timeout longer than the absolute one", () => {
    expect(() =>
      parseConfig({ SESSION_IDLE_TIMEOUT_SECONDS: "7200", SESSION_ABSOLUTE_TIMEOUT_SECONDS: "3600" }),
    ).toThrow(/SESSION_IDLE_TIMEOUT_SECONDS/);
  });
});

describe("e-mail addresses", () => {
  it("trims, keeps the case for sending and folds it for the key; IDN domains compare in ASCII", () => {
    expect(checkEmail(" Ada@Example.com ")).toEqual({
      ok: true,
      value: { email: "Ada@Example.com", key: "ada@example.com" },
    });
    expect(emailKey("ada@Bücher.example")).toBe("ada@xn--bcher-kva.example");
    expect(emailKey("first.last+tag@sub.example.co.uk")).toBe("first.last+tag@sub.example.co.uk");
  });

  it("accepts 254 characters and refuses 255", () => {
    const domain = `${"d".repeat(60)}.${"e".repeat(60)}.${"f".repeat(60)}.example`;
    const at254 = `${"a".repeat(254 - domain.length - 1)}@${domain}`;
    expect(at254).toHaveLength(254);
    expect(checkEmail(at254).ok).toBe(true);
    expect(checkEmail(`a${at254}`)).toMatchObject({ ok: false, message: expect.stringContaining("254") });
  });

  it.each([
    "",
    "ada",
    "ada@",
    "@example.com",
    "ada@localhost",
    "ada@example",
    "ada@192.168.0.1",
    "ada..lovelace@example.com",
    ".ada@example.com",
    "ada lovelace@example.com",
    '"ada"@example.com',
    "ada@example.com\r\nBcc: eve@example.com",
    "ada@example.com, eve@example.com",
    "<ada@example.com>",
    "ada@-example.com",
    "ada@example..com",
    `${"a".repeat(65)}@example.com`,
    "\ud800@example.com",
  ])("refuses %j", (address) => {
    expect(checkEmail(address).ok).toBe(false);
  });

  it("refuses what is not a string", () => {
    expect(checkEmail(undefined).ok).toBe(false);
    expect(checkEmail(["ada@example.com"]).ok).toBe(false);
  });
});

describe("username policy", () => {
  it("normalises with NFKC and folds case for comparison", () => {
    expect(checkUsername(" Ａｌｉｃｅ ")).toEqual({ ok: true, value: { username: "Alice", key: "alice" } });
    expect(usernameKey("STRASSE")).toBe(usernameKey("straße"));
    expect(usernameKey("ﬁnn")).toBe("finn");
  });

  it("counts code points, not UTF-16 units", () => {
    expect(checkUsername("𝒜𝒷𝒸").ok).toBe(true); // NFKC turns these into "Abc"
    expect(checkUsername("日本語").ok).toBe(true);
    expect(checkUsername("日本").ok).toBe(false);
  });

  it("refuses non-strings and lone surrogates", () => {
    expect(checkUsername(["alice"]).ok).toBe(false);
    expect(checkUsername("ali\ud800ce").ok).toBe(false);
  });
});

describe("password policy", () => {
  const common = parseCommonPasswords("password1\n12345678\nletmein\n");

  it("accepts long, simple passphrases", () => {
    expect(checkNewPassword("correct horse battery staple", "alice", common)).toEqual({ ok: true });
  });

  it("refuses common passwords case-insensitively", () => {
    expect(checkNewPassword("PASSWORD1", "alice", common).ok).toBe(false);
  });

  it("refuses lone surrogates", () => {
    expect(checkNewPassword("abcdefgh\ud800", "alice", common).ok).toBe(false);
  });
});

describe("context-specific words", () => {
  const common = parseCommonPasswords("password1\n");

  it("are the app's name, the username and the website's name [A5 6.1.2]", () => {
    expect(contextWords("ada_lovelace", "auth.bank-portal.example:8443")).toEqual([
      { kind: "app", word: "login-manager" },
      { kind: "username", word: "ada_lovelace" },
      { kind: "site", word: "bank-portal" },
    ]);
    expect(contextWords("ada", "127.0.0.1:5000")).toEqual([
      { kind: "app", word: "login-manager" },
      { kind: "username", word: "ada" },
    ]);
  });

  it.each([
    ["bank-portal.example", "bank-portal"],
    ["www.bank-portal.example.", "bank-portal"],
    ["shop.example.co.uk", "example"],
    ["EXAMPLE.ORG:443", "example"],
    ["localhost:5000", undefined],
    ["127.0.0.1", undefined],
    ["[::1]:5000", undefined],
    [undefined, undefined],
  ])("read the site name of Host %j as %j", (host, name) => {
    expect(siteName(host)).toBe(name);
  });

  it("are found in a password whatever the case, width or separators [A5 6.2.11]", () => {
    expect(skeleton("Ｌｏｇｉｎ_Manager!")).toBe("loginmanager");
    const words = contextWords("ada_lovelace", "bank-portal.example");
    expect(containedContextWord("my ＬｏｇｉｎＭａｎａｇｅｒ key", words)).toBe("app");
    expect(containedContextWord("hi Ada.Lovelace 1815", words)).toBe("username");
    expect(containedContextWord("BANK portal 4 ever", words)).toBe("site");
    expect(containedContextWord("correct horse battery staple", words)).toBeUndefined();
    expect(checkNewPassword("LoginManager rocks", "alice", common)).toEqual({
      ok: false,
      message: "Your password can't contain the name of this app (login-manager).",
    });
    expect(checkNewPassword("bank portal rocks", "alice", common, "bank-portal.example").ok).toBe(false);
    expect(checkNewPassword("bank portal rocks", "alice", common, "example.org").ok).toBe(true);
  });

  it("are documented, every one, in the app's README [A5 6.1.2]", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const section = /## Context-specific words\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? "";
    for (const word of APP_CONTEXT_WORDS) expect(section).toContain(`\`${word}\``);
    expect(section).toMatch(/username/);
    expect(section).toMatch(/`Host`/);
    expect(section).toContain(`${MIN_CONTAINED_WORD_LENGTH} letters`);
  });
});

describe("common passwords list", () => {
  it("holds at least the 10,000 most common passwords", () => {
    const list = loadCommonPasswords();
    expect(list.size).toBeGreaterThanOrEqual(9_900); // 10,000 lines; a few differ only in case
    expect(list.has("123456")).toBe(true);
    expect(list.has("trustno1")).toBe(true);
    expect(list.has("correct horse battery staple")).toBe(false);
  });
});

describe("describeUserAgent", () => {
  it.each([
    [
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
      "Chrome 126 on Linux",
    ],
    [
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0",
      "Edge 125 on Windows",
    ],
    [
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
      "Safari 17 on macOS",
    ],
    ["Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0", "Firefox 127 on Android"],
    ["curl/8.5.0", "curl 8.5"],
    ["", "Unknown device"],
    ["<script>", "Unknown device"],
  ])("%j reads as %j", (agent, expected) => {
    expect(describeUserAgent(agent)).toBe(expected);
  });
});

describe("loadOrCreateSecret", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("creates a 0600 key file once and reuses it", () => {
    const dir = mkdtempSync(join(tmpdir(), "lm-secret-"));
    dirs.push(dir);
    const first = loadOrCreateSecret(undefined, dir);
    expect(first.source).toBe("generated");
    expect(first.secret.length).toBeGreaterThanOrEqual(32);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    const second = loadOrCreateSecret(undefined, dir);
    expect(second).toEqual({ ...first, source: "file" });
  });

  it("prefers SECRET_KEY and refuses a damaged key file", () => {
    const dir = mkdtempSync(join(tmpdir(), "lm-secret-"));
    dirs.push(dir);
    expect(loadOrCreateSecret("s".repeat(32), dir).source).toBe("env");
    writeFileSync(join(dir, "secret_key"), "short\n");
    expect(() => loadOrCreateSecret(undefined, dir)).toThrow(/secret_key/);
  });
});
