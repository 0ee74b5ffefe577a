/**
 * The Firecracker driver: API request planning and config files (`plan.ts`),
 * the HTTP-on-Unix-socket client (`client.ts`), the process lifecycle
 * (`process.ts`), the {@link VmmDriver} (`driver.ts`), a checker of requests
 * against Firecracker's swagger spec (`spec-check.ts`), and the translation
 * of Firecracker-style guests to QEMU (`translate.ts`, `elf-notes.ts`).
 */
export * from "./client.js";
export * from "./driver.js";
export * from "./elf-notes.js";
export * from "./plan.js";
export * from "./process.js";
export * from "./spec-check.js";
export * from "./translate.js";
