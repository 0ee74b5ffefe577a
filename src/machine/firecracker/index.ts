/**
 * The Firecracker driver: API request planning and config files (`plan.ts`),
 * the HTTP-on-Unix-socket client (`client.ts`), the process lifecycle
 * (`process.ts`), the {@link VmmDriver} (`driver.ts`), and the translation
 * of Firecracker-style guests to QEMU (`translate.ts`, `elf-notes.ts`).
 * The checker of requests against Firecracker's swagger spec (`spec-check.ts`)
 * is for tests and the Firecracker stand-in only, imported by path: it needs
 * ajv, a development dependency.
 */
export * from "./client.js";
export * from "./driver.js";
export * from "./elf-notes.js";
export * from "./plan.js";
export * from "./process.js";
export * from "./translate.js";
