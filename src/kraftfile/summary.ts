/**
 * A human-readable description of a normalized project, for `kiln inspect`.
 */
import type { Component, ComponentSource, Project } from "./types.js";

function source(s: ComponentSource): string {
  if (s.type === "git") return `git ${s.url} @ ${s.version}`;
  if (s.type === "directory") return `directory ${s.path}`;
  return `archive ${s.location}`;
}

function component(c: Component): string {
  const n = Object.keys(c.kconfig).length;
  return `${source(c.source)}${n ? ` (${n} kconfig option${n === 1 ? "" : "s"})` : ""}`;
}

/** Aligned `key  value` lines describing the project (no trailing newline). */
export function describeProject(p: Project): string {
  const rows: [string, string][] = [
    ["name", p.name],
    ["file", `${p.file} (spec v${p.specification})`],
    ["outdir", p.outdir],
  ];
  if (p.runtime !== undefined) rows.push(["runtime", p.runtime]);
  if (p.template) rows.push(["template", `${p.template.name}: ${component(p.template)}`]);
  if (p.unikraft) rows.push(["unikraft", component(p.unikraft)]);
  p.libraries.forEach((l, i) => {
    rows.push([i === 0 ? "libraries" : "", `${l.name}: ${component(l)}`]);
  });
  const nameWidth = Math.max(0, ...p.targets.map((t) => t.name.length)) + 2;
  p.targets.forEach((t, i) => {
    const n = Object.keys(t.kconfig).length;
    const k = n ? ` (${n} kconfig option${n === 1 ? "" : "s"})` : "";
    rows.push([i === 0 ? "targets" : "", `${t.name.padEnd(nameWidth)}${t.platform}/${t.architecture}${k}`]);
    // Spec v0.5's per-target `command` and `initrd`, under their target.
    if (t.cmd)
      rows.push(["", `${" ".repeat(nameWidth)}cmd ${t.cmd.map((a) => JSON.stringify(a)).join(" ")}`]);
    if (t.initrd) {
      const inputs = t.initrd.inputs.map((x) => `${x.source}:${x.destination}`).join(", ");
      const out = t.initrd.output ? ` -> ${t.initrd.output}` : "";
      const z = t.initrd.compress ? " (compressed)" : "";
      rows.push(["", `${" ".repeat(nameWidth)}initrd ${inputs}${out}${z}`]);
    }
  });
  if (p.targets.length === 0) rows.push(["targets", "none (the runtime's kernel is used)"]);
  if (p.rootfs) {
    rows.push([
      "rootfs",
      `${p.rootfs.source} (${p.rootfs.format}${p.rootfs.type ? `, ${p.rootfs.type}` : ""})`,
    ]);
  }
  if (p.cmd.length) rows.push(["cmd", p.cmd.map((a) => JSON.stringify(a)).join(" ")]);
  Object.entries(p.env).forEach(([k, v], i) => {
    rows.push([i === 0 ? "env" : "", `${k}=${v}`]);
  });
  Object.entries(p.labels).forEach(([k, v], i) => {
    rows.push([i === 0 ? "labels" : "", `${k}=${v}`]);
  });
  p.volumes.forEach((v, i) => {
    const extra = [v.readonly ? "ro" : "", v.driver ?? ""].filter(Boolean).join(", ");
    rows.push([i === 0 ? "volumes" : "", `${v.source} -> ${v.destination}${extra ? ` (${extra})` : ""}`]);
  });
  const ext = Object.keys(p.extensions);
  if (ext.length) rows.push(["extensions", ext.join(", ")]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => `${k.padEnd(width)}${v}`).join("\n");
}
