/**
 * Checks Firecracker API requests against Firecracker's own OpenAPI 2.0
 * (swagger) description, `src/firecracker/swagger/firecracker.yaml` in the
 * Firecracker repository (a copy sits in `../shared/data/firecracker/`).
 *
 * Swagger 2.0 definitions are a JSON Schema draft-04 dialect with
 * `$ref: "#/definitions/X"`; Kiln hands them to ajv under one schema id so
 * the refs resolve, keeps `required`, types, enums, minimum/maximum and
 * `additionalProperties`, and drops the swagger-only keywords (`readOnly`,
 * `example`, swagger `format`s such as `int64`).
 *
 * Unknown fields: the swagger file leaves most objects open, but Firecracker
 * itself deserializes every request body into Rust structs marked
 * `#[serde(deny_unknown_fields)]` and answers 400 for a misspelt key. With
 * `closedObjects` (the default) an object schema that lists `properties` and
 * says nothing about `additionalProperties` is treated as closed, so a typo in
 * Kiln's requests fails the tests as it would fail a real Firecracker.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { parse } from "yaml";
import { KilnError } from "../../core/errors.js";

/** One operation of the API: a method on a path template, with its body schema. */
export interface ApiOperation {
  method: string;
  /** Path template as the spec writes it, e.g. `/drives/{drive_id}`. */
  template: string;
  operationId: string;
  /** Name under `definitions` of the body schema, when the operation takes a body. */
  bodyDefinition?: string;
  /** Whether the spec marks the body parameter `required: true`. */
  bodyRequired: boolean;
  /** Names of `{…}` path parameters, in order. */
  pathParams: string[];
}

/** The outcome of checking one request. */
export interface RequestCheck {
  /** The matched operation; undefined when method+path is not in the spec. */
  operation?: ApiOperation;
  /** Path parameter values, e.g. `{ drive_id: "rootfs" }`. */
  params: Record<string, string>;
  /** Violations, each a sentence naming the JSON pointer and the rule. Empty when valid. */
  errors: string[];
}

export interface SpecCheckOptions {
  /** Treat objects without `additionalProperties` as closed (Firecracker's serde behaviour). Default true. */
  closedObjects?: boolean;
}

type Json = Record<string, unknown>;

const SWAGGER_ONLY = new Set(["readOnly", "example", "format", "discriminator", "xml", "externalDocs"]);

/** Translate a swagger schema into plain JSON Schema (draft-07 as ajv reads it). */
function toJsonSchema(node: unknown, closed: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, closed));
  if (typeof node !== "object" || node === null) return node;
  const src = node as Json;
  if (typeof src.$ref === "string") return { $ref: src.$ref };
  const out: Json = {};
  for (const [k, v] of Object.entries(src)) {
    if (SWAGGER_ONLY.has(k)) continue;
    if (k === "properties" && typeof v === "object" && v !== null) {
      out.properties = Object.fromEntries(
        Object.entries(v as Json).map(([name, s]) => [name, toJsonSchema(s, closed)]),
      );
    } else if (k === "items" || k === "additionalProperties") {
      out[k] = typeof v === "boolean" ? v : toJsonSchema(v, closed);
    } else {
      out[k] = v;
    }
  }
  if (closed && out.properties !== undefined && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

function describe(e: ErrorObject): string {
  const where = e.instancePath === "" ? "body" : `body${e.instancePath.replace(/\//g, ".")}`;
  switch (e.keyword) {
    case "additionalProperties":
      return `${where}: unknown field "${String(e.params.additionalProperty)}"`;
    case "required":
      return `${where}: missing required field "${String(e.params.missingProperty)}"`;
    case "enum":
      return `${where}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return `${where}: ${e.message ?? e.keyword}`;
  }
}

/** A loaded Firecracker API description that checks request bodies. */
export class FirecrackerApi {
  /** `info.version` of the spec, e.g. `1.17.0-dev`. */
  readonly version: string;
  readonly operations: ApiOperation[];
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly definitionNames: Set<string>;

  constructor(doc: Json, options: SpecCheckOptions = {}) {
    const closed = options.closedObjects ?? true;
    if (doc.swagger !== "2.0" || typeof doc.paths !== "object" || typeof doc.definitions !== "object") {
      throw new KilnError(
        "FIRECRACKER_SPEC_UNREADABLE",
        "not a swagger 2.0 document with paths and definitions",
      );
    }
    this.version = String((doc.info as Json | undefined)?.version ?? "unknown");
    const definitions = Object.fromEntries(
      Object.entries(doc.definitions as Json).map(([k, v]) => [k, toJsonSchema(v, closed)]),
    );
    this.definitionNames = new Set(Object.keys(definitions));
    this.ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    this.ajv.addSchema({ $id: "firecracker", definitions });
    this.operations = [];
    for (const [template, methods] of Object.entries(doc.paths as Record<string, Json>)) {
      for (const [method, opRaw] of Object.entries(methods)) {
        const op = opRaw as Json;
        const params = (op.parameters as Json[] | undefined) ?? [];
        const body = params.find((p) => p.in === "body");
        const ref = (body?.schema as Json | undefined)?.$ref;
        this.operations.push({
          method: method.toUpperCase(),
          template,
          operationId: String(op.operationId ?? `${method} ${template}`),
          ...(typeof ref === "string" ? { bodyDefinition: ref.replace("#/definitions/", "") } : {}),
          bodyRequired: body?.required === true,
          pathParams: params.filter((p) => p.in === "path").map((p) => String(p.name)),
        });
      }
    }
  }

  /** Load and parse the YAML spec at `file`. Throws `FIRECRACKER_SPEC_UNREADABLE`. */
  static load(file: string, options: SpecCheckOptions = {}): FirecrackerApi {
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new KilnError("FIRECRACKER_SPEC_UNREADABLE", `cannot read the Firecracker API spec ${file}`, {
        cause: e,
      });
    }
    return new FirecrackerApi(doc as Json, options);
  }

  /** Names of the spec's `definitions`. */
  definitions(): string[] {
    return [...this.definitionNames];
  }

  /** The operation for `method` on a concrete `path` (`/drives/rootfs`), with its path parameters. */
  findOperation(
    method: string,
    path: string,
  ): { operation: ApiOperation; params: Record<string, string> } | undefined {
    const m = method.toUpperCase();
    const clean = path.split("?")[0]!;
    for (const op of this.operations) {
      if (op.method !== m) continue;
      const re = new RegExp(`^${op.template.replace(/\{[^}]+\}/g, "([^/]+)")}$`);
      const hit = re.exec(clean);
      if (!hit) continue;
      const params: Record<string, string> = {};
      op.pathParams.forEach((name, i) => {
        params[name] = decodeURIComponent(hit[i + 1] ?? "");
      });
      return { operation: op, params };
    }
    return undefined;
  }

  /** Violations of definition `name` by `value` (empty when valid). */
  checkDefinition(name: string, value: unknown): string[] {
    if (!this.definitionNames.has(name)) {
      throw new KilnError(
        "FIRECRACKER_SPEC_UNREADABLE",
        `the Firecracker API spec has no definition "${name}"`,
      );
    }
    let validate = this.validators.get(name);
    if (!validate) {
      validate = this.ajv.getSchema(`firecracker#/definitions/${name}`);
      if (!validate)
        throw new KilnError("FIRECRACKER_SPEC_UNREADABLE", `cannot compile definition "${name}"`);
      this.validators.set(name, validate);
    }
    return validate(value) ? [] : (validate.errors ?? []).map(describe);
  }

  /**
   * Check one request: the method and path must be in the spec, the body must
   * be present exactly when the operation takes one and match its schema, and
   * an id in the path must equal the same id in the body (Firecracker answers
   * "The id from the path [a] does not match the id from the body [b]!").
   */
  checkRequest(method: string, path: string, body: unknown): RequestCheck {
    const found = this.findOperation(method, path);
    if (!found) {
      return {
        params: {},
        errors: [`${method.toUpperCase()} ${path} is not an operation of the Firecracker API`],
      };
    }
    const { operation, params } = found;
    const errors: string[] = [];
    if (operation.bodyDefinition === undefined) {
      if (body !== undefined) errors.push(`${operation.operationId} takes no body`);
    } else if (body === undefined) {
      if (operation.bodyRequired)
        errors.push(`${operation.operationId} needs a ${operation.bodyDefinition} body`);
    } else {
      errors.push(...this.checkDefinition(operation.bodyDefinition, body));
      if (typeof body === "object" && body !== null) {
        for (const [name, value] of Object.entries(params)) {
          const inBody = (body as Json)[name];
          if (inBody !== undefined && inBody !== value) {
            errors.push(
              `The id from the path [${value}] does not match the id from the body [${String(inBody)}]!`,
            );
          }
        }
      }
    }
    return { operation, params, errors };
  }
}
