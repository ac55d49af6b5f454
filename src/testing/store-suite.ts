/**
 * The store conformance suites, kept at this path for the stores' own tests; they live in
 * `./conformance/`, one file per part of the store contract.
 *
 * @example
 * ```ts
 * import { defineStoreConformanceTests } from "../../testing/store-suite.js";
 * ```
 */
export * from "./conformance/index.js";
