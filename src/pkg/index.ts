/**
 * Packages: unikernels and Linux microVM images as OCI images in KraftKit's
 * layout, a content-addressed OCI layout store, and push/pull over the
 * shared registry client (`core/registry`).
 */
export * from "./archive.js";
export * from "./manage.js";
export * from "./media.js";
export * from "./package.js";
export * from "./platform.js";
export * from "./pull.js";
export * from "./push.js";
export * from "./read.js";
export * from "./store.js";
export * from "./tar.js";
