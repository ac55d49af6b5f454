// ASVS 16.1.1: the app's logging inventory (README "Security log inventory") must list every event
// login-manager declares and exactly what the app logs for each, so it cannot drift. The library's
// events are read from the `LoginManagerEvents` interface in src/core/events.ts, the app's event
// names from its `SecurityEventName` type, and what it logs by driving `watchManager` itself.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { LoginManager, RequestView } from "login-manager";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { createLogger, watchManager } from "../src/domain/security-log.js";
import type { User } from "../src/domain/users.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const APP = join(ROOT, "examples/app");
const NOT_LOGGED = "not logged";

interface InventoryRow {
  /** The login-manager event, or null for a row whose source is the app's own code (a route). */
  libraryEvent: string | null;
  /** For `loginFailed`: the reasons the row covers. */
  reasons: string[];
  /** The logged `event`, or null when not logged. */
  logged: string | null;
  outcomes: string[];
}

function ticked(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] as string);
}

/** The rows of the README's "Security log inventory" table. */
function inventory(): InventoryRow[] {
  const readme = readFileSync(join(APP, "README.md"), "utf8");
  const section = /^## Security log inventory\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (!section) throw new Error('examples/app/README.md has no "## Security log inventory" section');
  const rows = section
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .slice(2)
    .map((line) =>
      line
        .split("|")
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  return rows.map(([source = "", event = "", outcome = ""]) => {
    // A login-manager row starts with the event's name; any other source is the app's own code.
    const [libraryEvent = null, ...reasons] = source.startsWith("`") ? ticked(source) : [];
    return {
      libraryEvent,
      reasons,
      logged: event === NOT_LOGGED ? null : (ticked(event)[0] ?? `unparsed: ${event}`),
      outcomes: ticked(outcome),
    };
  });
}

function parse(path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true);
}

/** The keys of `LoginManagerEvents`: every event login-manager declares. */
function libraryEvents(): string[] {
  const source = parse(join(ROOT, "src/core/events.ts"));
  const declaration = source.statements.find(
    (node): node is ts.InterfaceDeclaration =>
      ts.isInterfaceDeclaration(node) && node.name.text === "LoginManagerEvents",
  );
  if (!declaration) throw new Error("LoginManagerEvents not found in src/core/events.ts");
  return declaration.members.map((member) => (member.name as ts.Identifier).text);
}

/** The members of the app's `SecurityEventName` union. */
function appEventNames(): string[] {
  const source = parse(join(APP, "src/domain/security-log.ts"));
  const alias = source.statements.find(
    (node): node is ts.TypeAliasDeclaration =>
      ts.isTypeAliasDeclaration(node) && node.name.text === "SecurityEventName",
  );
  if (!alias || !ts.isUnionTypeNode(alias.type)) throw new Error("SecurityEventName union not found");
  return alias.type.types.map((type) => {
    if (!ts.isLiteralTypeNode(type) || !ts.isStringLiteral(type.literal))
      throw new Error("not a string literal");
    return type.literal.text;
  });
}

/**
 * Every `event: "..."` the app's own code logs, outside security-log.ts (whose events come from
 * login-manager's and are checked by driving watchManager).
 */
function appCodeLoggedEvents(): string[] {
  const dir = join(APP, "src");
  const watcher = join("domain", "security-log.ts");
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts") && file !== watcher)
    .flatMap((file) => [...readFileSync(join(dir, file), "utf8").matchAll(/\bevent: "([^"]+)"/g)])
    .map((match) => match[1] as string);
}

const FIX =
  "update the Security log inventory table (and the Logs item of Operations) in examples/app/README.md";

type Listener = (payload: unknown) => void;

/** Runs watchManager against a stand-in manager: which events it listens to, and what it writes. */
function watched() {
  const listeners = new Map<string, Listener>();
  const lines: string[] = [];
  const manager = {
    on(event: string, listener: Listener) {
      listeners.set(event, listener);
      return () => listeners.delete(event);
    },
  };
  const logger = createLogger({ write: (line: string) => lines.push(line) });
  watchManager(manager as unknown as LoginManager<User>, logger, { trustProxyHops: 0 });
  const request: RequestView = {
    method: "POST",
    url: "/",
    header: () => undefined,
    remoteAddress: "192.0.2.1",
    encrypted: false,
    formField: () => undefined,
  };
  /** Emits `event` with a payload carrying every field any event has; returns the line written. */
  const emit = (event: string, reason = "admin"): Record<string, unknown> | undefined => {
    const before = lines.length;
    listeners.get(event)?.({
      user: { getId: () => "1", username: "alice" },
      userId: "1",
      account: "alice",
      reason,
      mode: "strong",
      count: 2,
      retryAfterSeconds: 30,
      request,
    });
    const line = lines.slice(before).at(-1);
    return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
  };
  return { listened: [...listeners.keys()], emit };
}

const unique = (values: Iterable<string>) => [...new Set(values)].sort();

describe("security log inventory in examples/app/README.md [A5 16.1.1]", () => {
  it("[A5 16.1.1] lists every event login-manager declares, and nothing else", () => {
    const listed = inventory().flatMap((row) => (row.libraryEvent ? [row.libraryEvent] : []));
    expect(unique(listed), FIX).toEqual(unique(libraryEvents()));
    // An event is split over several rows only by its reasons (loginFailed).
    for (const event of unique(listed)) {
      const rows = inventory().filter((row) => row.libraryEvent === event);
      if (rows.length > 1) for (const row of rows) expect(row.reasons.length).toBeGreaterThan(0);
    }
  });

  it("[A5 16.1.1] names exactly the app's log events: its SecurityEventName type and the Operations list", () => {
    const logged = inventory().flatMap((row) => (row.logged ? [row.logged] : []));
    expect(unique(logged), FIX).toEqual(unique(appEventNames()));
    const readme = readFileSync(join(APP, "README.md"), "utf8");
    const operations = /`event` \(([^)]*)\)/.exec(readme)?.[1] ?? "";
    expect(unique(ticked(operations)), FIX).toEqual(unique(appEventNames()));
  });

  it("[A5 16.1.1] marks as logged exactly the login-manager events the app subscribes to", () => {
    const logged = inventory().flatMap((row) => (row.libraryEvent && row.logged ? [row.libraryEvent] : []));
    expect(unique(watched().listened), FIX).toEqual(unique(logged));
  });

  it("[A5 16.1.1] gives the event and outcome the app really writes for each login-manager event", () => {
    const { emit } = watched();
    for (const row of inventory().filter((entry) => entry.libraryEvent && entry.logged)) {
      for (const reason of row.reasons.length > 0 ? row.reasons : [undefined]) {
        const line = emit(row.libraryEvent as string, reason);
        expect(line, `${row.libraryEvent} ${reason ?? ""}`).toMatchObject({
          kind: "security",
          event: row.logged,
        });
        expect(row.outcomes).toContain(line?.outcome);
      }
    }
  });

  it("[A5 16.1.1] lists as app rows exactly the events the app's own code logs", () => {
    const appRows = inventory().filter((row) => row.libraryEvent === null);
    expect(unique(appRows.map((row) => row.logged ?? "")), FIX).toEqual(unique(appCodeLoggedEvents()));
  });
});
