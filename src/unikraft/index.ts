/** Building Unikraft unikernels: sources, configuration, make, artifacts. */
export * from "./sources/index.js";
