import assert from "node:assert/strict";
import { test } from "node:test";
import { isKilnError } from "../core/errors.js";
import { renderTemplate } from "./go-template.js";

const rows = [
  { Name: "web", State: "running", Ports: [{ hostPort: 8080 }], Memory: "256 MiB" },
  { Name: "batch-job", State: "exited", Ports: [], Memory: "64 MiB" },
];

test("{{.Field}}, {{json .}}, escapes", () => {
  assert.equal(renderTemplate("{{.Name}}", rows), "web\nbatch-job\n");
  assert.equal(renderTemplate("{{.Name}}\\t{{ .State }}", rows), "web\trunning\nbatch-job\texited\n");
  assert.equal(renderTemplate("{{json .Ports}}", rows), '[{"hostPort":8080}]\n[]\n');
  assert.deepEqual(JSON.parse(renderTemplate("{{json .}}", rows.slice(0, 1))), rows[0]);
  assert.equal(renderTemplate("{{.Ports}}", rows.slice(0, 1)), '[{"hostPort":8080}]\n');
});

test("table: a header of field names, columns aligned as docker's tabwriter", () => {
  assert.equal(
    renderTemplate("table {{.Name}}\\t{{.State}}\\t{{.Memory}}", rows),
    [
      "NAME        STATE     MEMORY",
      "web         running   256 MiB",
      "batch-job   exited    64 MiB",
      "",
    ].join("\n"),
  );
});

test("unknown fields and unsupported actions are errors naming them", () => {
  assert.throws(
    () => renderTemplate("{{.Image}}", rows),
    (e) =>
      isKilnError(e, "USAGE") &&
      /no field \.Image \(fields: \.Name \.State \.Ports \.Memory\)/.test(e.message),
  );
  assert.throws(
    () => renderTemplate("{{range .Ports}}x{{end}}", rows),
    (e) => isKilnError(e, "USAGE") && /"\{\{range \.Ports\}\}" is not supported/.test(e.message),
  );
});
