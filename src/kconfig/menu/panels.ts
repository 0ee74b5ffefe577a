/**
 * The text panels: `?` help (the help text and the symbol facts mconf's
 * help window shows) and the why panel (the facts of {@link whyFacts}, each
 * dependency term with its value, the blocking ones marked, and lines that
 * link to a symbol so the user can jump there).
 */
import type { Config } from "../ops.js";
import type { MenuNode, Sym } from "../types.js";
import { type WhyFacts, whyFacts } from "./engine.js";
import { menuPathText } from "./rows.js";

/** A panel line; `link` names the symbol Enter jumps to. */
export interface PanelLine {
  text: string;
  link?: string;
  /** A blocking term (drawn highlighted). */
  blocking?: boolean;
}

/** A scrollable panel. */
export interface Panel {
  kind: "help" | "why";
  title: string;
  lines: PanelLine[];
  /** Index of the selected line (why: links only), or the first line shown (help). */
  cursor: number;
  top: number;
}

/** Where the Kraftfile set a symbol (for project targets), e.g. `Kraftfile:12 (target qemu/x86_64)`. */
export type Provenance = Map<string, string>;

function symLabel(s: Sym | undefined): string {
  if (!s) return "";
  return s.name ? `CONFIG_${s.name}` : "<choice>";
}

/** The `?` panel for a menu node. */
export function helpPanel(c: Config, node: MenuNode, marks: Provenance): Panel {
  const lines: PanelLine[] = [];
  const s = node.sym;
  const help = node.help ?? s?.nodes.find((n) => n.help)?.help;
  if (help) {
    for (const l of help.replace(/\n+$/, "").split("\n")) lines.push({ text: l });
  } else lines.push({ text: "There is no help available for this option." });
  lines.push({ text: "" });
  if (s?.name) {
    c.ev.calc(s);
    lines.push({ text: `Symbol: ${s.name} [=${c.ev.stringValue(s)}]` });
    lines.push({ text: `Type  : ${s.type}` });
  }
  if (node.prompt?.text) lines.push({ text: `Prompt: ${node.prompt.text}` });
  lines.push({ text: `  Defined at ${node.pos.file}:${node.pos.line}` });
  const path = menuPathText(node);
  lines.push({ text: `  Location: ${["Main menu", ...path].join(" -> ")}` });
  const mark = s?.name ? marks.get(s.name) : undefined;
  if (mark) lines.push({ text: `  Set by ${mark}` });
  return { kind: "help", title: `${node.prompt?.text ?? symLabel(s)}`, lines, cursor: 0, top: 0 };
}

function whyLines(f: WhyFacts, mark: string | undefined): PanelLine[] {
  const L: PanelLine[] = [];
  const who = f.symbol || "<choice>";
  L.push({
    text: `${who} = ${f.value}  (${f.type}, ${f.changeable ? "changeable" : "cannot be changed here"})`,
  });
  if (mark) L.push({ text: `Set by the project: ${mark}` });
  for (const d of f.definitions)
    L.push({ text: `Defined at ${d.file}:${d.line}${d.prompt ? `  "${d.prompt}"` : "  (no prompt)"}` });
  if (f.hidden) L.push({ text: `Hidden: ${f.hidden}` });
  if (f.dependsOn) {
    L.push({ text: `Depends on: ${f.dependsOn.text} [=${f.dependsOn.value}]` });
    for (const t of f.dependsOn.terms)
      L.push({
        text: `  ${t.blocking ? "BLOCKING " : ""}${t.text} [=${t.value}]`,
        link: t.symbol,
        blocking: t.blocking,
      });
  } else L.push({ text: "Depends on: nothing" });
  if (f.promptIf) {
    L.push({ text: `Prompt only if: ${f.promptIf.text} [=${f.promptIf.value}]` });
    for (const t of f.promptIf.terms)
      L.push({
        text: `  ${t.blocking ? "BLOCKING " : ""}${t.text} [=${t.value}]`,
        link: t.symbol,
        blocking: t.blocking,
      });
  }
  if (f.selectedBy.length) {
    L.push({ text: "Selected by:" });
    for (const t of f.selectedBy) L.push({ text: `  ${t.text} [=${t.value}]`, link: t.symbol });
  }
  if (f.impliedBy.length) {
    L.push({ text: "Implied by:" });
    for (const t of f.impliedBy) L.push({ text: `  ${t.text} [=${t.value}]`, link: t.symbol });
  }
  if (f.range) L.push({ text: `Range: ${f.range}` });
  if (f.userValue !== undefined)
    L.push({
      text: `User value: ${f.userValue}${f.userValue === f.value ? "" : ` (not applied; the value is ${f.value})`}`,
    });
  if (f.appliedDefault)
    L.push({
      text: `Default applied: ${f.appliedDefault.value}${f.appliedDefault.cond ? ` if ${f.appliedDefault.cond}` : ""} (${f.appliedDefault.file}:${f.appliedDefault.line})`,
    });
  else if (f.userValue === undefined && f.type !== "unknown") L.push({ text: "Default applied: none (n)" });
  return L;
}

/** The why panel of a node's symbol (or of a menu: its dependencies). The cursor starts on the first blocking term. */
export function whyPanel(c: Config, node: MenuNode, marks: Provenance): Panel {
  const s = node.sym;
  if (!s) {
    const lines: PanelLine[] = [
      { text: `Menu "${node.prompt?.text ?? ""}" at ${node.pos.file}:${node.pos.line}` },
    ];
    lines.push({ text: `Visible: ${node.prompt ? c.ev.calcExpr(node.prompt.cond) !== 0 : false}` });
    return { kind: "why", title: "Why", lines, cursor: -1, top: 0 };
  }
  const lines = whyLines(whyFacts(c, s), s.name ? marks.get(s.name) : undefined);
  let cursor = lines.findIndex((l) => l.blocking && l.link);
  if (cursor < 0) cursor = lines.findIndex((l) => l.link);
  return { kind: "why", title: `Why ${s.name || "<choice>"}`, lines, cursor, top: 0 };
}

/**
 * A key in a panel: scrolling (why: from link to link), and what the menu
 * must do: close it, jump to a symbol (Enter on a why link), toggle hidden
 * entries, or nothing (undefined).
 */
export function panelKey(
  p: Panel,
  key: string,
  bodyRows: number,
): "close" | "toggle-hidden" | { jump: string } | undefined {
  const links = p.lines.map((l, i) => (l.link ? i : -1)).filter((i) => i >= 0);
  const maxTop = Math.max(0, p.lines.length - bodyRows);
  const step = (d: number) => {
    if (p.kind === "why" && links.length) {
      const at = links.indexOf(p.cursor);
      p.cursor = links[Math.min(links.length - 1, Math.max(0, at + d))] as number;
      if (p.cursor < p.top) p.top = p.cursor;
      if (p.cursor >= p.top + bodyRows) p.top = p.cursor - bodyRows + 1;
    } else p.top = Math.min(maxTop, Math.max(0, p.top + d));
  };
  switch (key) {
    case "up":
      step(-1);
      return undefined;
    case "down":
      step(1);
      return undefined;
    case "pageup":
      p.top = Math.max(0, p.top - bodyRows);
      return undefined;
    case "pagedown":
      p.top = Math.min(maxTop, p.top + bodyRows);
      return undefined;
    case "enter": {
      const target = p.kind === "why" ? p.lines[p.cursor]?.link : undefined;
      return target ? { jump: target } : "close";
    }
    case "z":
      return "toggle-hidden";
    case "escape":
    case "left":
    case "?":
    case "w":
    case "q":
      return "close";
    default:
      return undefined;
  }
}
