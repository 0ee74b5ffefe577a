/**
 * Renders a {@link MenuState} to exactly `height` lines of at most `width`
 * characters: title, menu path, a rule, the list (or a panel, the search
 * prompt or its results), a rule, a status line and the key hints. Styles
 * are hints the terminal shell may draw (or drop under NO_COLOR); the text
 * alone shows everything (`>` marks the cursor, `(hidden)` hidden entries).
 */
import { MenuState } from "./state.js";

/** How the shell may draw a line. */
export type LineStyle = "title" | "cursor" | "dim" | "cursor-dim" | "error" | "plain";

/** One screen line. */
export interface Line {
  text: string;
  style: LineStyle;
}

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}~` : text;
}

function keysFor(st: MenuState): string {
  switch (st.mode) {
    case "panel":
      return st.panel?.kind === "why"
        ? "Up/Down: term  Enter: jump to it  z: show hidden  Esc: back"
        : "Up/Down/PgUp/PgDn: scroll  Esc: back";
    case "search":
      return `Enter: search  Tab: ${st.regex ? "substring" : "regex"} mode  Esc: cancel`;
    case "results":
      return "Up/Down: choose  Enter: jump  w: why  ?: help  /: new search  Esc: back";
    case "edit":
      return "Enter: set  Backspace: delete  Esc: cancel";
    case "confirm-quit":
      return "y: save and quit  n: quit without saving  Esc: stay";
    default:
      return st.kraftfileSave
        ? "Enter:open Spc/y/n/m:set ?:help w:why /:find z:hidden s:save K:Kraftfile q:quit"
        : "Enter:open Spc/y/n/m:set ?:help w:why /:search z:hidden s:save q:quit";
  }
}

function statusFor(st: MenuState): Line {
  if (st.message) return { text: st.message, style: "error" };
  if (st.mode === "confirm-quit") return { text: "There are unsaved changes. Save them?", style: "error" };
  if (st.mode !== "menu") return { text: "", style: "plain" };
  const row = st.current();
  const s = row?.node.sym;
  if (!row) return { text: "(empty menu)", style: "plain" };
  const parts: string[] = [];
  if (s?.name) parts.push(`CONFIG_${s.name}=${st.cfg.ev.stringValue(s)}`);
  if (s?.name && st.marks.has(s.name)) parts.push(`set by ${st.marks.get(s.name)}`);
  if (row.hidden) parts.push(`hidden: ${row.hidden}`);
  return { text: parts.join("  "), style: row.hidden ? "dim" : "plain" };
}

function listBody(st: MenuState, height: number): Line[] {
  const rows = st.rows();
  const sc = st.screen;
  const out: Line[] = [];
  for (let i = sc.top; i < Math.min(rows.length, sc.top + height); i++) {
    const r = rows[i];
    if (!r) break;
    const on = i === sc.cursor;
    const mark = r.node.sym?.name && st.marks.has(r.node.sym.name) ? " [Kraftfile]" : "";
    const hid = r.hidden ? " (hidden)" : "";
    out.push({
      text: `${on ? ">" : " "}${r.text}${mark}${hid}`,
      style: on ? (r.hidden ? "cursor-dim" : "cursor") : r.hidden ? "dim" : "plain",
    });
  }
  if (!rows.length) out.push({ text: "  (no visible entries; z shows hidden ones)", style: "dim" });
  return out;
}

function panelBody(st: MenuState, height: number): Line[] {
  const p = st.panel;
  if (!p) return [];
  const out: Line[] = [{ text: `== ${p.title} ==`, style: "title" }];
  for (let i = p.top; i < Math.min(p.lines.length, p.top + height - 1); i++) {
    const l = p.lines[i];
    if (!l) break;
    const on = p.kind === "why" && i === p.cursor;
    out.push({ text: `${on ? ">" : " "}${l.text}`, style: on ? "cursor" : l.blocking ? "error" : "plain" });
  }
  return out;
}

function resultsBody(st: MenuState, height: number): Line[] {
  const out: Line[] = [
    {
      text: `== Search: '${st.query}' (${st.regex ? "regex" : "substring"}): ${st.results.length} found ==`,
      style: "title",
    },
  ];
  const per = Math.max(1, Math.floor((height - 1) / MenuState.RESULT_LINES));
  for (let i = st.resultTop; i < Math.min(st.results.length, st.resultTop + per); i++) {
    const r = st.results[i];
    if (!r) break;
    const on = i === st.resultCursor;
    out.push({
      text: `${on ? ">" : " "}${r.symbol} [=${r.value}]  ${r.prompt ?? "(no prompt)"}`,
      style: on ? "cursor" : "plain",
    });
    out.push({ text: `    -> ${["Main menu", ...r.path].join(" -> ")}`, style: "dim" });
  }
  return out;
}

/** Renders the state at `width`×`height` (its size is updated to match). */
export function render(st: MenuState, width: number, height: number): Line[] {
  if (width !== st.width || height !== st.height) st.resize(width, height);
  const bodyH = st.listRows;
  const rule = "-".repeat(width);
  const path = ["Main menu", ...st.stack.slice(1).map((s) => s.menu.prompt?.text ?? "")];
  let crumbs = path.join(" > ");
  if (crumbs.length > width - 1) crumbs = `...${crumbs.slice(crumbs.length - width + 4)}`;
  const lines: Line[] = [
    { text: ` ${st.title}${st.dirty ? "  [modified]" : ""}`, style: "title" },
    { text: ` ${crumbs}`, style: "plain" },
    { text: rule, style: "plain" },
  ];
  let body: Line[];
  if (st.mode === "panel") body = panelBody(st, bodyH);
  else if (st.mode === "results") body = resultsBody(st, bodyH);
  else body = listBody(st, bodyH);
  if (st.mode === "search") {
    body = body.slice(0, bodyH - 1);
    while (body.length < bodyH - 1) body.push({ text: "", style: "plain" });
    body.push({ text: `Search (${st.regex ? "regex" : "substring"}): ${st.query}_`, style: "cursor" });
  }
  if (st.mode === "edit") {
    const s = st.editNode?.sym;
    body = body.slice(0, bodyH - 1);
    while (body.length < bodyH - 1) body.push({ text: "", style: "plain" });
    body.push({ text: `${s?.name} (${s?.type}): ${st.editText}_`, style: "cursor" });
  }
  while (body.length < bodyH) body.push({ text: "", style: "plain" });
  lines.push(...body, { text: rule, style: "plain" }, statusFor(st), { text: keysFor(st), style: "plain" });
  return lines.slice(0, height).map((l) => ({ text: fit(l.text, width), style: l.style }));
}

/** The rendered screen as plain text (tests, NO_COLOR dumps). */
export function renderText(st: MenuState, width: number, height: number): string {
  return render(st, width, height)
    .map((l) => l.text)
    .join("\n");
}
