import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The install test (`npx vitest run -c test/install/vitest.config.ts`): packs the library, installs
// fresh projects from the registry and typechecks them, so it runs on its own and not in the unit run.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/install/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 15 * 60_000,
    hookTimeout: 5 * 60_000,
    // The tests wait on shared installs and compilers, which limit their own concurrency.
    maxConcurrency: 50,
    pool: "forks",
    // The test file runs only under this config (the project's default one also matches *.test.ts).
    env: { LOGIN_MANAGER_INSTALL_TEST: "1" },
  },
});
