/**
 * A new user's first ten minutes, with today's packages from the registry: the library packed once,
 * a fresh project per guide install line (run as the guide writes it, the tarball in place of
 * `login-manager`), the guide's code typechecked under TypeScript 5.9 and 7 with `nodenext` and
 * `bundler`, the framework examples served on this Node and logged in to over HTTP, the store
 * snippets run against their stores, and the tarball and a git install checked as packages.
 *
 * Slow and on the network: run it with `npx vitest run -c test/install/vitest.config.ts`.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresUrl, probePostgres, probeRedis, redisUrl } from "../helpers/services.js";
import type { Guide, GuideFile, InstallLine } from "./guides.js";
import {
  FRAMEWORK_GUIDES,
  filesFor,
  GUIDE_NAMES,
  guidesWithInstallLines,
  installedPackages,
  readGuide,
  TYPECHECK_ONLY_GUIDES,
} from "./guides.js";
import {
  entryPointsFile,
  installScriptWarnings,
  PEER_FREE_MODULE,
  sourceMapProblems,
  typesPackagesFor,
} from "./package-checks.js";
import { csrfField, HttpUser, PASSWORD, runStoreModule, startExample, startFile } from "./serve.js";
import { SNIPPET_CONTEXT, thirdPartyErrors, typecheckFailures, typecheckProject } from "./typecheck.js";
import type { RunResult } from "./workspace.js";
import {
  createProject,
  installCompilers,
  makeRunFolder,
  npmInstall,
  packTarball,
  REPO_ROOT,
  removeRunFolder,
} from "./workspace.js";

const MINUTES = 60_000;
/** Set by test/install/vitest.config.ts: the project's default config, which also matches this file, skips it. */
const ownConfig = process.env.LOGIN_MANAGER_INSTALL_TEST === "1";
/** INSTALL_TEST_ONLY=fastify,package runs part of it: guide names, and "package" for the tarball's own checks. */
const only = process.env.INSTALL_TEST_ONLY?.split(",").map((name) => name.trim());
const selected = (name: string) => ownConfig && (!only || only.includes(name));
const guides = GUIDE_NAMES.filter(selected).map(readGuide);
const folder = ownConfig ? makeRunFolder() : "";

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => {
    promise ??= make();
    return promise;
  };
}

const tarball = once(() => packTarball(folder));
const compilers = once(() => installCompilers());

/** A fresh project after its install line (and, when that worked, its `@types/*` packages). */
interface Project {
  dir: string;
  install: RunResult;
  types: string[];
}

async function makeProject(
  label: string,
  args: readonly string[],
  typed: readonly string[],
  env: Record<string, string> = {},
): Promise<Project> {
  // npm init names the project after its folder: "app-express", never "express" itself.
  const dir = await createProject(folder, `app-${label}`);
  const packed = await tarball();
  const install = await npmInstall(
    dir,
    args.map((arg) => (arg === "login-manager" ? packed : arg)),
    env,
  );
  if (install.code !== 0 || typed.length === 0) return { dir, install, types: [] };
  const types = typesPackagesFor(dir, typed);
  // The tree's metadata was fetched moments ago: no need to ask the registry for it again.
  const typesInstall = await npmInstall(dir, ["--save-dev", "--prefer-offline", ...types]);
  if (typesInstall.code !== 0)
    throw new Error(`installing ${types.join(" ")} failed:\n${typesInstall.stderr}`);
  return { dir, install, types };
}

const projects = new Map<string, () => Promise<Project>>();
/** A project made once per label; `typed` are the packages whose `@types/*` it adds (none: no types at all). */
function project(
  label: string,
  args: readonly string[],
  typed: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<Project> {
  let make = projects.get(label);
  if (!make) {
    make = once(() => makeProject(label, args, typed, env));
    projects.set(label, make);
  }
  return make();
}

/** A guide's project, with the `@types/*` packages a TypeScript user adds for its packages. */
function guideProject(line: InstallLine): Promise<Project> {
  return project(line.label, line.args, installedPackages(line));
}

const alone = () => project("login-manager-alone", ["login-manager"]);
/**
 * npm clones the checkout and installs its devDependencies there to build it: the ones `npm ci`
 * put in the cache already, so from the cache.
 */
const fromGit = () =>
  project("login-manager-from-git", [`git+file://${REPO_ROOT.replace(/\/$/, "")}`], [], {
    npm_config_prefer_offline: "true",
  });

/** The install line a guide without one stands for: login-manager alone. */
function linesOf(guide: Guide): InstallLine[] {
  if (guide.installLines.length > 0) return guide.installLines;
  return [
    { guide: guide.name, command: "npm install login-manager", args: ["login-manager"], label: guide.name },
  ];
}

function installOk(result: Project): void {
  expect(result.install.code, `${result.install.stdout}\n${result.install.stderr}`).toBe(0);
}

/** The files a line's project typechecks: the guide's code it covers, plus what runs or frames it. */
function projectFiles(guide: Guide, line: InstallLine): GuideFile[] | { name: string; text: string }[] {
  const files = filesFor(guide, line);
  if (FRAMEWORK_GUIDES.includes(guide.name)) {
    const example = files[0];
    if (!example || !guide.startLine) throw new Error(`${guide.name}.md: no complete example or start line`);
    return [...files, startFile(guide.startLine, example.name)];
  }
  return files.length === 0 ? files : [...files, SNIPPET_CONTEXT];
}

const typechecked = new Map<string, Promise<string[]>>();
/** Typechecks a line's project once; the failures, each with the compiler's output. */
function typecheck(guide: Guide, line: InstallLine): Promise<string[]> {
  let result = typechecked.get(line.label);
  if (!result) {
    result = (async () => {
      const { dir } = await guideProject(line);
      const results = await typecheckProject(dir, projectFiles(guide, line), await compilers(), ["node"]);
      for (const error of thirdPartyErrors(results))
        console.warn(`${line.label}: another package's types: ${error}`);
      return typecheckFailures(results);
    })();
    typechecked.set(line.label, result);
  }
  return result;
}

it.runIf(ownConfig)("covers every guide that has an install line", () => {
  expect(
    guidesWithInstallLines().filter((name) => !(GUIDE_NAMES as readonly string[]).includes(name)),
  ).toEqual([]);
});

if (!ownConfig)
  it.skip("runs with -c test/install/vitest.config.ts (it packs, and installs from the registry)");

beforeAll(() => {
  if (guides.length === 0 && !selected("package")) return;
  // Everything starts at once; the tests below wait for what they look at.
  const lines = guides.flatMap(linesOf);
  const packageChecks = selected("package") ? [alone(), fromGit()] : [];
  const started = [tarball(), compilers(), ...packageChecks, ...lines.map(guideProject)];
  for (const promise of started) promise.catch(() => undefined);
});

afterAll(() => {
  if (folder) removeRunFolder(folder);
});

describe.concurrent.each(guides.map((guide) => [`docs/guides/${guide.name}.md`, guide] as const))(
  "%s",
  { timeout: 15 * MINUTES },
  (_title, guide) => {
    it("has an install line for each of its snippets' packages", () => {
      for (const file of guide.files) {
        const covering = linesOf(guide).filter((line) =>
          file.packages.every((pkg) => installedPackages(line).includes(pkg)),
        );
        expect(covering, `${file.name} imports ${file.packages.join(", ")}`).not.toEqual([]);
      }
    });

    describe.each(linesOf(guide).map((line) => [line.command, line] as const))("%s", (_command, line) => {
      it("installs with today's packages, without an install-script warning for login-manager", async () => {
        const result = await guideProject(line);
        installOk(result);
        expect(installScriptWarnings(result.install.stderr)).toEqual([]);
      });

      it("typechecks under TypeScript 5.9 and 7, nodenext and bundler, tsc --init's strict options, skipLibCheck: false", async () => {
        expect(projectFiles(guide, line)).not.toEqual([]);
        expect(await typecheck(guide, line)).toEqual([]);
      });

      if (FRAMEWORK_GUIDES.includes(guide.name)) {
        it("serves the complete example on this Node, and alice logs in over HTTP", async () => {
          expect(await typecheck(guide, line)).toEqual([]);
          await logInOverHttp((await guideProject(line)).dir);
        });
      } else if (!TYPECHECK_ONLY_GUIDES.includes(guide.name)) {
        for (const file of filesFor(guide, line)) {
          it(`runs ${file.name}: its store keeps alice's session`, async (context) => {
            const env = await serviceEnv(file);
            if (env === "skip") return context.skip();
            expect(await typecheck(guide, line)).toEqual([]);
            const { dir } = await guideProject(line);
            const result = await runStoreModule(dir, join("out", file.name.replace(/\.ts$/, ".js")), env);
            expect(result.stdout, result.stderr).toContain("signed in as alice");
          });
        }
      }
    });
  },
);

/** The URLs a snippet needs, or "skip" (loudly) when its server is down and REQUIRE_SERVICES is not 1. */
async function serviceEnv(file: GuideFile): Promise<Record<string, string> | "skip"> {
  const uses = (pattern: RegExp) => file.specifiers.some((specifier) => pattern.test(specifier));
  const service = uses(/^(pg|login-manager\/stores\/postgres)$/)
    ? "postgres"
    : uses(/^(redis|ioredis|login-manager\/stores\/redis)$/)
      ? "redis"
      : undefined;
  if (!service) return {};
  // A longer probe than the suites' 2 s: this test shares a busy machine with its own compilers.
  const reachable = service === "postgres" ? await probePostgres(10_000) : await probeRedis(10_000);
  if (!reachable) {
    const message = `${service === "postgres" ? "PostgreSQL" : "Redis"} is not reachable on 127.0.0.1`;
    if (process.env.REQUIRE_SERVICES === "1") throw new Error(`${message} and REQUIRE_SERVICES=1`);
    console.warn(`SKIPPED: ${file.name}: ${message} (set REQUIRE_SERVICES=1 to fail instead)`);
    return "skip";
  }
  return service === "postgres" ? { DATABASE_URL: postgresUrl() } : { REDIS_URL: redisUrl() };
}

/** The walk of the guides' test: redirect with the flash, the form, a 403 without Origin, the login, the page. */
async function logInOverHttp(projectDir: string): Promise<void> {
  const example = await startExample(projectDir);
  try {
    const user = new HttpUser(example.baseUrl);
    const anonymous = await user.get("/account");
    expect(anonymous.status).toBe(302);
    expect(anonymous.location).toBe("/login?next=%2Faccount");
    const loginPage = await user.get("/login?next=%2Faccount");
    expect(loginPage.text).toContain("Please log in to access this page.");
    const form = { username: "alice", password: PASSWORD, _csrf: csrfField(loginPage) };
    expect((await user.post("/login?next=%2Faccount", form, { origin: false })).status).toBe(403);
    const login = await user.post("/login?next=%2Faccount", form);
    expect(login.status, login.text).toBe(303);
    expect(login.location).toBe("/account");
    const account = await user.get("/account");
    expect(account.status).toBe(200);
    expect(account.text).toContain("Signed in as alice");
  } catch (error) {
    throw new Error(`${String(error)}\nthe example printed:\n${example.output()}`);
  } finally {
    await example.stop();
  }
}

(selected("package") ? describe.concurrent : describe.skip)("the package", { timeout: 15 * MINUTES }, () => {
  it("alone (npm install <tarball>): no install-script warning, peer-free entry points typecheck with types: [] and no @types", async () => {
    const { dir, install } = await alone();
    expect(install.code, install.stderr).toBe(0);
    expect(installScriptWarnings(install.stderr)).toEqual([]);
    const results = await typecheckProject(dir, [entryPointsFile()], await compilers(), []);
    expect(typecheckFailures(results)).toEqual([]);
  });

  it("alone: hashes a password and keeps a session on this Node, with nothing else installed", async () => {
    const { dir } = await alone();
    writeFileSync(join(dir, PEER_FREE_MODULE.name), PEER_FREE_MODULE.text);
    const result = await runStoreModule(dir, PEER_FREE_MODULE.name);
    expect(result.stdout, result.stderr).toContain("signed in as alice");
  });

  it("ships source maps whose every source resolves inside the package, inlined as src/ has it", async () => {
    const { dir } = await alone();
    const { maps, sources, problems } = sourceMapProblems(join(dir, "node_modules", "login-manager"));
    expect(maps).toBeGreaterThan(10);
    expect(sources).toBeGreaterThanOrEqual(maps);
    expect(problems).toEqual([]);
  });

  it("ships LICENSE", async () => {
    const { dir } = await alone();
    expect(existsSync(join(dir, "node_modules", "login-manager", "LICENSE"))).toBe(true);
  });

  it("installs from git (the checkout's HEAD): npm builds dist/, and it works", async () => {
    const { dir, install } = await fromGit();
    expect(install.code, install.stderr).toBe(0);
    expect(existsSync(join(dir, "node_modules", "login-manager", "dist", "index.js"))).toBe(true);
    writeFileSync(join(dir, PEER_FREE_MODULE.name), PEER_FREE_MODULE.text);
    const result = await runStoreModule(dir, PEER_FREE_MODULE.name);
    expect(result.stdout, result.stderr).toContain("signed in as alice");
  });
});
