/**
 * The entries of one menu screen as Linux 6.1's mconf lists them
 * (scripts/kconfig/mconf.c build_conf()): menus end in `--->` (`----` when
 * empty), symbols show `[*]`/`[ ]` (bool), `<M>` (tristate), `{M}` (selected
 * to m), `-*-` (not changeable), `(value)` for strings and numbers, choices
 * show their selection, comments read `*** text ***`, and entries that
 * depend on the entry above are indented below it. With `showAll` (mconf's
 * `z`), hidden entries are listed too, marked so the screen can grey them.
 */
import type { Config } from "../ops.js";
import type { MenuNode } from "../types.js";
import { F } from "../types.js";
import { hiddenReason, isChangeable } from "./engine.js";

/** One line of a menu screen. */
export interface Row {
  node: MenuNode;
  /** The text as mconf draws it, e.g. `[*] Enable loadable module support  --->`. */
  text: string;
  /** Enter opens it as a screen of its own (menu, menuconfig, choice). */
  opens: boolean;
  /** Listed only because hidden entries are shown; the reason it is hidden. */
  hidden: string | undefined;
}

/** menu_is_visible(). */
export function isVisible(c: Config, m: MenuNode): boolean {
  if (!m.prompt) return false;
  if (m.visibility && c.ev.calcExpr(m.visibility) === 0) return false;
  let vis: number;
  if (m.sym) {
    c.ev.calc(m.sym);
    vis = c.ev.calcExpr(m.prompt.cond);
  } else vis = c.ev.calcExpr(m.prompt.cond);
  if (vis !== 0) return true;
  if (!m.sym || m.sym.curTri === 0) return false;
  for (let ch = m.list; ch; ch = ch.next) if (isVisible(c, ch)) return true;
  return false;
}

/** menu_is_empty(): no child with a visible prompt. */
function isEmpty(c: Config, m: MenuNode): boolean {
  for (let ch = m.list; ch; ch = ch.next) if (isVisible(c, ch)) return false;
  return true;
}

/** Whether Enter on this node opens a screen (P_MENU prompts and choices). */
export function opensScreen(m: MenuNode): boolean {
  return m.kind === "root" || m.prompt?.kind === "menu" || m.kind === "choice";
}

/** The nodes from the root down to the screen that lists `m` (the root first, `m`'s screen last). */
export function screenPath(m: MenuNode): MenuNode[] {
  const out: MenuNode[] = [];
  for (let p = m.parent; p; p = p.parent) if (opensScreen(p)) out.unshift(p);
  return out;
}

/** The prompts of the screens above `m`, for breadcrumbs and search results. */
export function menuPathText(m: MenuNode): string[] {
  return screenPath(m)
    .filter((p) => p.kind !== "root")
    .map((p) => p.prompt?.text ?? "");
}

const mark = (ch: string, open: string, close: string) => `${open}${ch}${close}`;

/** Builds the rows of the screen `menu` (build_conf() over its children). */
export function buildRows(c: Config, menu: MenuNode, showAll: boolean): Row[] {
  const rows: Row[] = [];
  if (menu.kind === "choice") {
    choiceRows(c, menu, showAll, rows);
    return rows;
  }
  for (let ch = menu.list; ch; ch = ch.next) build(c, ch, 0, showAll, rows);
  return rows;
}

function choiceRows(c: Config, menu: MenuNode, showAll: boolean, rows: Row[]): void {
  const cs = menu.sym;
  if (cs) c.ev.calc(cs);
  for (let ch = menu.list; ch; ch = ch.next) {
    const vis = isVisible(c, ch);
    if (!vis && !showAll) continue;
    if (!ch.prompt) continue;
    const sel = ch.sym && cs?.curChoice === ch.sym;
    const v = ch.sym && c.ev.getType(ch.sym) === "tristate" && ch.sym.curTri === 1 ? "M" : sel ? "X" : " ";
    rows.push({
      node: ch,
      text: `${mark(v, "(", ")")} ${ch.prompt.text ?? ""}`,
      opens: false,
      hidden: vis ? undefined : hiddenReason(c, ch),
    });
  }
}

function pushChildren(c: Config, m: MenuNode, indent: number, showAll: boolean, rows: Row[]): void {
  for (let ch = m.list; ch; ch = ch.next) build(c, ch, indent, showAll, rows);
}

function build(c: Config, m: MenuNode, indent: number, showAll: boolean, rows: Row[]): void {
  const vis = isVisible(c, m);
  if (!vis && !(showAll && m.prompt)) return;
  const hidden = vis ? undefined : hiddenReason(c, m);
  const pad = " ".repeat(indent + 1);
  const prompt = m.prompt?.text ?? "";
  const s = m.sym;
  if (!s) {
    if (m.prompt?.kind === "menu") {
      rows.push({
        node: m,
        text: `   ${pad}${prompt}  ${isEmpty(c, m) ? "----" : "--->"}`,
        opens: true,
        hidden,
      });
      return;
    }
    if (m.prompt?.kind === "comment")
      rows.push({ node: m, text: `   ${pad}*** ${prompt} ***`, opens: false, hidden });
    pushChildren(c, m, indent, showAll, rows);
    return;
  }
  c.ev.calc(s);
  const type = c.ev.getType(s);
  const val = s.curTri;
  if (s.flags & F.CHOICE) {
    let def: MenuNode | undefined;
    for (let ch = m.list; ch; ch = ch.next)
      if (isVisible(c, ch) && ch.sym && ch.sym === s.curChoice) def = ch;
    let head = "   ";
    if (isChangeable(c, s))
      head =
        type === "tristate"
          ? mark(val === 0 ? " " : val === 1 ? "M" : "*", "<", ">")
          : mark(val ? "*" : " ", "[", "]");
    let text = `${head}${pad}${prompt}`;
    if (val === 2 && def) text += ` (${def.prompt?.text ?? ""})`;
    rows.push({ node: m, text: `${text}  --->`, opens: true, hidden });
    return;
  }
  const isNew = !c.ev.hasValue(s) && isChangeable(c, s) ? " (NEW)" : "";
  let head: string;
  if (s.flags & F.CHOICEVAL && val === 2) head = "   ";
  else if (type === "bool")
    head = isChangeable(c, s) ? mark(val ? "*" : " ", "[", "]") : mark(val ? "*" : " ", "-", "-");
  else if (type === "tristate") {
    const ch = val === 2 ? "*" : val === 1 ? "M" : " ";
    head = isChangeable(c, s)
      ? s.revDepTri === 1
        ? mark(ch, "{", "}")
        : mark(ch, "<", ">")
      : mark(ch, "-", "-");
  } else {
    const v = c.ev.stringValue(s);
    // mconf: "%*c" with width indent - (len + 2) + 4, at least one space
    const gap = indent - (2 + v.length) + 4;
    rows.push({
      node: m,
      text: `(${v})${" ".repeat(Math.max(1, gap))}${prompt}${isNew}`,
      opens: false,
      hidden,
    });
    pushChildren(c, m, indent + 2, showAll, rows);
    return;
  }
  if (m.prompt?.kind === "menu") {
    rows.push({
      node: m,
      text: `${head}${pad}${prompt}${isNew}  ${isEmpty(c, m) ? "----" : "--->"}`,
      opens: true,
      hidden,
    });
    return;
  }
  rows.push({ node: m, text: `${head}${pad}${prompt}${isNew}`, opens: false, hidden });
  pushChildren(c, m, indent + 2, showAll, rows);
}
