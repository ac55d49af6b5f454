import { defineConfig } from "vitest/config";

// Browser tests (real Chromium through playwright-core): `npx vitest run -c vitest.browser.config.ts`.
export default defineConfig({
  resolve: { conditions: ["login-manager-source"] },
  ssr: { resolve: { conditions: ["login-manager-source"] } },
  test: {
    include: ["test/browser/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 90_000,
    hookTimeout: 90_000,
    pool: "forks",
  },
});
