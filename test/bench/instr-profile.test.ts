import { describe, expect, it } from "vitest";
import { areaOf } from "../../bench/instr/areas.js";
import { parseCallgrind } from "../../bench/instr/callgrind-file.js";

const FILE = [
  "# callgrind format",
  "events: Ir",
  "summary: 175",
  "fn=(1) 0x0000000028234280",
  "10 40",
  "+1 10",
  "cfn=(2) Builtins_PromiseConstructor",
  "calls=2 0",
  "* 100",
  "cfn=(1)",
  "calls=1 0",
  "* 55",
  "fn=(2)",
  "0 100",
  "fn=(3) sha256_block_data_order_avx2",
  "fi=(4) inlined.c",
  "5 25",
  "fe=(5)",
  "6 0",
].join("\n");

describe("bench:instr's callgrind reader", () => {
  it("adds self costs per function, counts a call's cost line in the caller's inclusive cost only, and names JIT code through the namer", () => {
    const profile = parseCallgrind(FILE, (address) =>
      address === 0x28234280n ? "JS:*'identify file:///t/dist/core/manager.js:1:2" : undefined,
    );
    expect(profile.get("JS:*'identify file:///t/dist/core/manager.js:1:2")).toEqual({
      self: 50,
      // 50 own + 100 for the promise constructor; the call to itself is already in its own figures.
      inclusive: 150,
    });
    expect(profile.get("Builtins_PromiseConstructor")).toEqual({ self: 100, inclusive: 100 });
    // Cost lines after fi=/fe= (inlined code) still belong to the function.
    expect(profile.get("sha256_block_data_order_avx2")).toEqual({ self: 25, inclusive: 25 });
  });

  it("puts JIT code without a perf map in one bucket", () => {
    expect([...parseCallgrind(FILE).keys()]).toContain("(JIT code without a name)");
  });
});

describe("bench:instr's areas", () => {
  it.each([
    [
      "JS:*'loginManagerHook file:///tmp/lm-instr-tree-x/dist/fastify/index.js:29:60",
      "login-manager: adapter",
    ],
    ["JS:*'readCookies file:///tmp/x/dist/core/cookies.js:14:28", "login-manager: cookie parsing"],
    ["JS:*'getSession file:///tmp/x/dist/stores/memory/index.js:62:15", "login-manager: store (JS)"],
    // tsx's own dist/ is a framework's, not the library's.
    ["JS:*'I file:///work/main/node_modules/tsx/dist/index-DE3OBZuV.mjs:1:1102", "framework JS: tsx"],
    [
      "JS:*'run node:internal/async_local_storage/async_context_frame:58:6",
      "Node: AsyncLocalStorage, async hooks (JS)",
    ],
    ["JS:*'processHeader node:_http_outgoing:575:23", "Node: http (JS)"],
    ["Builtins_PerformPromiseThen", "V8: promises and async functions"],
    ["Builtins_KeyedLoadIC_Megamorphic", "V8: property access"],
    ["sha256_block_data_order_avx2", "crypto (native: SHA-256, timingSafeEqual)"],
    ["RegExp.> src: '^[A-Za-z0-9_-]{22}$' flags: ''", "V8: compiled regular expressions"],
    ["(JIT code without a name)", "JIT code without a name"],
  ])("%s is %s", (name, area) => {
    expect(areaOf(name)).toBe(area);
  });
});
