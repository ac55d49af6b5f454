import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Where the benchmark loads login-manager from. `dist` (the default) is the tsc build, what the
 * published package runs; `src` (BENCH_LIB=src, used by smoke runs) loads the TypeScript through
 * tsx, whose esbuild transform wraps every closure in a `__name()` call and so costs more per request.
 */
export function libKind(): "dist" | "src" {
  return process.env.BENCH_LIB === "src" ? "src" : "dist";
}

/** Imports a module of the library (`"index"`, `"express/index"`, `"stores/sqlite/index"`...). */
export async function importLib<T>(module: string): Promise<T> {
  return (await import(pathToFileURL(join(root, libKind(), `${module}.js`)).href)) as T;
}
