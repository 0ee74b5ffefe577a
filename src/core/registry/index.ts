/** The shared OCI registry core: references, media types, credentials, the distribution API client. */
export * from "./auth.js";
export * from "./client.js";
export * from "./oci.js";
export * from "./reference.js";
