import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["login-manager-source"] },
  ssr: { resolve: { conditions: ["login-manager-source"] } },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "test/browser/**", "test/install/**"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
