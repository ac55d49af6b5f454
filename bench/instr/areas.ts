/**
 * Sorts the functions of a callgrind profile into areas (login-manager's own modules, the framework,
 * AsyncLocalStorage, promises, property access, strings, allocation, SHA-256...), so that a
 * `/protected` − `/hello` difference reads as "where the added instructions go".
 *
 * The areas are by the code that runs, not by who asked for it: V8's property-access stubs called
 * from login-manager's functions count under "V8: property access", for example. Optimised code
 * also carries the functions V8 inlined into it.
 *
 * @module
 */

/** A JavaScript function's module, from a perf-map name (`JS:*name file:///…/x.js:1:2`). */
function moduleOf(name: string): string | undefined {
  const match = /\s((?:file:\/\/|node:|\/)\S+?)(?::\d+:\d+)?$/.exec(name);
  return match?.[1];
}

const JS_MODULES: readonly (readonly [RegExp, string])[] = [
  [/\/(?:dist|src)\/(?:fastify|hono|express)\//, "login-manager: adapter"],
  [/\/(?:dist|src)\/core\/lifecycle\//, "login-manager: core/lifecycle (session lookup, protection)"],
  [/\/(?:dist|src)\/core\/(?:cookies|cookie-candidates)\./, "login-manager: cookie parsing"],
  [/\/(?:dist|src)\/core\/tokens\./, "login-manager: tokens (pair parsing, SHA-256 call, compare)"],
  [/\/(?:dist|src)\/core\/client\./, "login-manager: client fingerprint, HTTPS check"],
  [/\/(?:dist|src)\/core\/context\./, "login-manager: AsyncLocalStorage wrapper, currentUser()"],
  [/\/(?:dist|src)\/core\/(?:manager|loader|maybe-promise)\./, "login-manager: identify/admit, loader"],
  [
    /\/(?:dist|src)\/core\/(?:auth-context|guards|user-cache|user-source)\./,
    "login-manager: context, guard, user",
  ],
  [/\/(?:dist|src)\/stores\//, "login-manager: store (JS)"],
  [/\/(?:dist|src)\//, "login-manager: other modules"],
];

function jsArea(name: string): string {
  if (name.startsWith("RegExp")) return "V8: compiled regular expressions";
  const module = moduleOf(name) ?? "";
  if (!module.includes("node_modules")) {
    for (const [pattern, area] of JS_MODULES) if (pattern.test(module)) return area;
  }
  if (module.includes("/bench/")) return "bench app (route handlers)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(module)?.[1];
  if (pkg) return `framework JS: ${pkg}`;
  if (/async_local_storage|async_context_frame|async_hooks/.test(module))
    return "Node: AsyncLocalStorage, async hooks (JS)";
  if (module.includes("task_queues")) return "Node: nextTick and microtask queue (JS)";
  if (/node:_http|node:internal\/http|node:http/.test(module)) return "Node: http (JS)";
  if (/node:(?:internal\/)?(?:net|stream|streams)/.test(module)) return "Node: net and streams (JS)";
  if (/node:(?:internal\/)?crypto/.test(module)) return "Node: crypto (JS)";
  if (module.startsWith("node:")) return "Node: other internals (JS)";
  return "JavaScript, other";
}

const BUILTINS: readonly (readonly [RegExp, string])[] = [
  [
    /Promise|Await|AsyncFunction|Microtask|AsyncGenerator|EnqueueJob|Reaction/,
    "V8: promises and async functions",
  ],
  [
    /IC|Megamorphic|LoadGlobal|StoreGlobal|Handler|GetProperty|SetProperty|HasProperty/,
    "V8: property access",
  ],
  [/String|RegExp|Utf8|ToLower|ToUpper|Char/, "V8: strings and regexps"],
  [/RecordWrite|Allocate|Barrier/, "V8: allocation and write barrier"],
  [/Map|Set|Hash/, "V8: Map and Set"],
  [/Call|Construct|Interpreter|Bytecode|Baseline|Apply|Return|Deoptimization/, "V8: calls and interpreter"],
];

function nativeArea(name: string): string {
  if (name.startsWith("Builtins_")) {
    for (const [pattern, area] of BUILTINS) if (pattern.test(name)) return area;
    return "V8: other builtins";
  }
  if (/sha256|SHA256|EVP_|OPENSSL|CRYPTO_|ossl_|node::crypto/.test(name))
    return "crypto (native: SHA-256, timingSafeEqual)";
  if (/async_context_frame|AsyncWrap|async_hooks|AsyncHooks/.test(name))
    return "Node: AsyncLocalStorage, async hooks (native)";
  if (/llhttp|http_parser|node::http/i.test(name)) return "Node: HTTP parser (native)";
  if (/sqlite3|Statement|better_sqlite/.test(name)) return "SQLite (native)";
  if (/Stream|uv_|Libuv|writev|TCPWrap/.test(name)) return "Node: streams and libuv (native)";
  if (/Heap|Scaveng|Factory|Allocat|Marking|GC|Semi|NewSpace|Sweep/.test(name))
    return "V8: allocation and GC (C++)";
  if (/v8::internal::.*String|simdutf|Utf8/.test(name)) return "V8: strings and regexps";
  if (/Runtime_/.test(name)) return "V8: runtime calls (C++)";
  if (/^v8::(?!internal)/.test(name) || /HandleScope|Invoke|Execution|Builtins::/.test(name))
    return "V8: API and C++ boundary";
  if (/^v8::internal|^v8_|^Builtin:/.test(name)) return "V8: other internals (C++)";
  if (/^node::/.test(name)) return "Node: other native";
  if (/mem(?:cpy|move|set|cmp)|malloc|free|calloc|realloc|operator new|operator delete|__/.test(name))
    return "libc: memory and strings";
  return "native, other";
}

/**
 * The area a function (as named in a parsed callgrind file) belongs to.
 *
 * @example
 * ```ts
 * areaOf("JS:*'identify file:///tmp/x/dist/core/manager.js:201:13"); // "login-manager: identify/admit, loader"
 * areaOf("Builtins_PromiseConstructor"); // "V8: promises and async functions"
 * ```
 */
export function areaOf(name: string): string {
  if (name === "(JIT code without a name)") return "JIT code without a name";
  if (/^(?:JS|Script|Function|LazyCompile|RegExp)[:.]/.test(name)) return jsArea(name);
  if (name.startsWith("Builtin:")) return nativeArea(`Builtins_${name.slice(8)}`);
  return nativeArea(name);
}
