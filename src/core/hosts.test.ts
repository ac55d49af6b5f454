import { describe, expect, it, vi } from "vitest";
import { MemoryStore } from "../stores/memory/index.js";
import { fakeRequest } from "../testing/request.js";
import { requestHost } from "./client.js";
import { ConfigurationError } from "./errors.js";
import { DEFAULT_ALLOWED_HOSTS, HostPolicy, resolveAllowedHosts } from "./hosts.js";
import { resolveOptions } from "./options.js";

function policy(allowedHosts: readonly string[] | undefined, trustProxyHops = 0): HostPolicy {
  return new HostPolicy({ allowedHosts: resolveAllowedHosts(allowedHosts), trustProxyHops });
}

function allows(hosts: HostPolicy, headers: Record<string, string>, encrypted = false): boolean {
  return hosts.check(fakeRequest({ headers, encrypted })) === null;
}

describe("allowedHosts, resolved [checklist J.69; issue 16.7]", () => {
  it("defaults to the loopback names, as Django does while DEBUG is on", () => {
    expect(resolveAllowedHosts(undefined)).toEqual([".localhost", "127.0.0.1", "[::1]"]);
    expect(resolveOptions({ secret: "x".repeat(32), store: new MemoryStore() }).network.allowedHosts).toBe(
      DEFAULT_ALLOWED_HOSTS,
    );
  });

  it("normalises entries: case, IDN, IPv6, IPv4 forms, trailing dot, ports", () => {
    expect(
      resolveAllowedHosts([
        "App.Example.COM",
        ".example.org.",
        "bücher.example",
        "[0:0:0:0:0:0:0:1]:3000",
        "127.1",
        "app.example.com:8443",
        "*",
      ]),
    ).toEqual([
      "app.example.com",
      ".example.org",
      "xn--bcher-kva.example",
      "[::1]:3000",
      "127.0.0.1",
      "app.example.com:8443",
      "*",
    ]);
  });

  it.each([
    [[], /non-empty array/],
    ["app.example.com", /non-empty array/],
    [["https://app.example.com"], /not a URL: leave out the scheme/],
    [["*.example.com"], /write "\.example\.com"/],
    [["app.example.com/path"], /host name with an optional port/],
    [["user@app.example.com"], /host name with an optional port/],
    [["app.example.com:0"], /host name with an optional port/],
    [["app.example.com:65536"], /host name with an optional port/],
    [["app.example.com:"], /host name with an optional port/],
    [["::1"], /host name with an optional port/],
    [["[::1"], /host name with an optional port/],
    [[""], /host name with an optional port/],
    [["."], /host name with an optional port/],
    [[".10.0.0.1"], /IP address: it has no subdomains/],
    [[".[::1]"], /IP address/],
    [[42], /is not a string/],
  ])("refuses %j at setup, saying what to write", (value, message) => {
    expect(() => resolveAllowedHosts(value as string[])).toThrow(ConfigurationError);
    expect(() => resolveAllowedHosts(value as string[])).toThrow(message);
  });
});

describe("HostPolicy.check [issue 16.7]", () => {
  it("answers 400 to another host, naming neither it nor the allowed ones", () => {
    const reply = policy(["app.example.com"]).check(fakeRequest({ headers: { host: "evil.example" } }));
    expect(reply).toEqual({
      status: 400,
      headers: { "cache-control": "no-store" },
      body: "Bad Request: This server does not answer for that host name.",
    });
    const json = policy(["app.example.com"]).check(
      fakeRequest({ headers: { host: "evil.example", accept: "application/json" } }),
    );
    expect(json?.body).toEqual({
      error: "host_not_allowed",
      message: "This server does not answer for that host name.",
    });
    expect(JSON.stringify([reply, json])).not.toMatch(/evil|app\.example/);
  });

  it.each([
    ["127.0.0.1:5000", true],
    ["localhost", true],
    ["LOCALHOST:3000", true],
    ["localhost.", true],
    ["app.localhost:8080", true],
    ["[::1]", true],
    ["[::1]:3000", true],
    ["[0:0:0:0:0:0:0:1]:3000", true],
    ["127.1", true],
    ["127.0.0.2", false],
    ["[::2]", false],
    ["::1", false],
    ["[::1", false],
    ["10.0.0.5:5000", false],
    ["localhost.evil.example", false],
    ["evillocalhost", false],
    ["evil.example", false],
    ["127.0.0.1:99999", false],
    ["127.0.0.1/x", false],
    ["user@127.0.0.1", false],
    ["", false],
  ])("by default, Host %j is allowed: %s", (host, allowed) => {
    expect(allows(policy(undefined), { host })).toBe(allowed);
  });

  it("refuses a request without a Host header", () => {
    expect(allows(policy(undefined), {})).toBe(false);
  });

  it.each([
    ["app.example.com", "app.example.com", true],
    ["app.example.com", "APP.example.com:8080", true],
    ["app.example.com", "www.app.example.com", false],
    ["app.example.com", "example.com", false],
    [".example.com", "example.com", true],
    [".example.com", "a.b.example.com:444", true],
    [".example.com", "badexample.com", false],
    [".example.com", "example.com.evil.example", false],
    ["app.example.com:8443", "app.example.com:8443", true],
    ["app.example.com:8443", "app.example.com:8444", false],
    ["app.example.com:8443", "app.example.com", false],
    ["app.example.com:80", "app.example.com", true],
    ["app.example.com:80", "app.example.com:80", true],
    ["[2001:db8::1]", "[2001:DB8:0::1]:8080", true],
    ["[2001:db8::1]:8080", "[2001:db8::1]", false],
    ["10.0.0.5", "10.0.0.5:5000", true],
    ["bücher.example", "xn--bcher-kva.example", true],
  ])("entry %j, Host %j over HTTP: allowed %s", (entry, host, allowed) => {
    expect(allows(policy([entry]), { host })).toBe(allowed);
  });

  it("answers each request on its own when hosts and schemes alternate (the last allowed host is remembered first)", () => {
    const hosts = policy(["app.example.com:443", "other.example:80"]);
    const sequence: [string, boolean, boolean][] = [
      ["app.example.com", true, true],
      ["app.example.com", false, false],
      ["app.example.com", true, true],
      ["evil.example", true, false],
      ["app.example.com", true, true],
      ["other.example", false, true],
      ["other.example:81", false, false],
      ["other.example", false, true],
      ["app.example.com", false, false],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [host, encrypted, allowed] of sequence) {
        // A fresh string per request, as a server's parser makes them.
        expect(allows(hosts, { host: [...host].join("") }, encrypted), `${host} ${encrypted}`).toBe(allowed);
      }
    }
    const origins = [true, false, true].map((encrypted) =>
      hosts.expectedOrigin(fakeRequest({ headers: { host: "app.example.com" }, encrypted })),
    );
    expect(origins).toEqual(["https://app.example.com", null, "https://app.example.com"]);
  });

  it("counts a Host without a port as the scheme's default port", () => {
    expect(allows(policy(["app.example.com:443"]), { host: "app.example.com" }, true)).toBe(true);
    expect(allows(policy(["app.example.com:443"]), { host: "app.example.com" }, false)).toBe(false);
  });

  it('allows anything with "*", a missing or malformed Host included', () => {
    const any = policy(["*"]);
    for (const host of ["evil.example", "evil.example/phish?", "a b"])
      expect(allows(any, { host })).toBe(true);
    expect(allows(any, {})).toBe(true);
  });

  it("reads X-Forwarded-Host only behind trusted proxies, at the entry the outermost one wrote", () => {
    const direct = policy(["app.example.com"]);
    expect(allows(direct, { host: "evil.example", "x-forwarded-host": "app.example.com" })).toBe(false);
    expect(allows(direct, { host: "app.example.com", "x-forwarded-host": "evil.example" })).toBe(true);
    const proxied = policy(["app.example.com"], 1);
    expect(allows(proxied, { host: "10.0.0.2:3000", "x-forwarded-host": "app.example.com" })).toBe(true);
    expect(allows(proxied, { host: "app.example.com", "x-forwarded-host": "evil.example" })).toBe(false);
    expect(
      allows(proxied, { host: "10.0.0.2:3000", "x-forwarded-host": "app.example.com, evil.example" }),
    ).toBe(false);
    expect(
      allows(proxied, { host: "10.0.0.2:3000", "x-forwarded-host": "evil.example, app.example.com" }),
    ).toBe(true);
    // Without the header the Host header is the host, as without proxies.
    expect(allows(proxied, { host: "app.example.com" })).toBe(true);
  });

  it("takes the default port from a trusted X-Forwarded-Proto", () => {
    const proxied = policy(["app.example.com:443"], 1);
    const headers = { host: "app.example.com", "x-forwarded-proto": "https" };
    expect(allows(proxied, headers)).toBe(true);
    expect(allows(proxied, { ...headers, "x-forwarded-proto": "http" })).toBe(false);
  });

  it("warns once, only while allowedHosts is the default, without repeating a malformed Host", () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      const defaults = policy(undefined);
      defaults.check(fakeRequest({ headers: { host: "app.example.com" } }));
      defaults.check(fakeRequest({ headers: { host: "other.example" } }));
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toContain('"app.example.com"');
      expect(String(warn.mock.calls[0]?.[0])).toContain('allowedHosts: ["app.example.com"]');
      expect(warn.mock.calls[0]?.[1]).toEqual({ code: "LOGIN_MANAGER_HOST_NOT_ALLOWED" });

      policy(undefined).check(fakeRequest({ headers: { host: "evil\r\nx" } }));
      expect(String(warn.mock.calls[1]?.[0])).toContain("with a missing or malformed Host");
      expect(String(warn.mock.calls[1]?.[0])).not.toContain("evil");

      policy(["app.example.com"]).check(fakeRequest({ headers: { host: "evil.example" } }));
      expect(warn).toHaveBeenCalledTimes(2);
    } finally {
      warn.mockRestore();
    }
  });
});

describe("HostPolicy.expectedOrigin: the origin the CSRF check compares the Origin header with", () => {
  it("is the origin a browser sends on an allowed host, and null on any other", () => {
    const hosts = policy(["app.example.com", "[::1]"]);
    const origin = (headers: Record<string, string>, encrypted = false) =>
      hosts.expectedOrigin(fakeRequest({ headers, encrypted }));
    expect(origin({ host: "App.Example.com" })).toBe("http://app.example.com");
    expect(origin({ host: "app.example.com:443" }, true)).toBe("https://app.example.com");
    expect(origin({ host: "app.example.com:8080" })).toBe("http://app.example.com:8080");
    expect(origin({ host: "[0::1]:3000" })).toBe("http://[::1]:3000");
    expect(origin({ host: "evil.example" })).toBeNull();
    expect(origin({})).toBeNull();
  });

  it('is any well-formed host\'s origin with "*", and null for a malformed one', () => {
    const any = policy(["*"]);
    expect(any.expectedOrigin(fakeRequest({ headers: { host: "evil.example" } }))).toBe(
      "http://evil.example",
    );
    expect(any.expectedOrigin(fakeRequest({ headers: { host: "evil.example/phish?" } }))).toBeNull();
  });

  it("uses the trusted X-Forwarded-Host", () => {
    const hosts = policy(["app.example.com"], 1);
    const request = fakeRequest({
      headers: { host: "10.0.0.2:3000", "x-forwarded-host": "app.example.com", "x-forwarded-proto": "https" },
    });
    expect(hosts.expectedOrigin(request)).toBe("https://app.example.com");
  });
});

describe("requestHost", () => {
  it("is the Host header, or the trusted X-Forwarded-Host entry behind proxies", () => {
    const request = fakeRequest({ headers: { host: "a.example", "x-forwarded-host": "b.example" } });
    expect(requestHost(request, 0)).toBe("a.example");
    expect(requestHost(request, 1)).toBe("b.example");
    expect(requestHost(fakeRequest({ headers: { host: "a.example" } }), 1)).toBe("a.example");
    expect(requestHost(fakeRequest({ headers: {} }), 0)).toBeUndefined();
  });
});
