/**
 * Reading and writing configurations as Linux 6.1's confdata.c does:
 * conf_read_simple()/conf_read() for `.config` text, conf_write() for the
 * `.config` (menu order, `# end of` markers, `# CONFIG_X is not set`),
 * conf_write_defconfig() for savedefconfig, and autoconf.h in symbol-table
 * order.
 */
import type { Evaluator } from "./eval.js";
import type { MenuNode, Sym, Tri } from "./types.js";
import { F } from "./types.js";

/** A problem found while reading a `.config` (conf_warning). */
export interface ConfigReadWarning {
  line: number;
  message: string;
}

/** conf_set_sym_val(): false if the value is invalid for the symbol. */
function setSymVal(ev: Evaluator, s: Sym, raw: string, warn: (m: string) => void): boolean {
  switch (s.type) {
    case "tristate":
    case "bool":
      if (s.type === "tristate" && raw[0] === "m") {
        s.userTri = 1;
        s.flags |= F.DEF_USER;
        return true;
      }
      if (raw[0] === "y" || raw[0] === "n") {
        s.userTri = raw[0] === "y" ? 2 : 0;
        s.flags |= F.DEF_USER;
        return true;
      }
      warn(`symbol value '${raw}' invalid for ${s.name}`);
      return false;
    case "string":
    case "int":
    case "hex": {
      let p = raw;
      if (s.type === "string") {
        if (p[0] !== '"') return true;
        p = p.slice(1);
        let out = "";
        let i = 0;
        let closed = false;
        for (; i < p.length; i++) {
          const c = p[i];
          if (c === '"') {
            closed = true;
            break;
          }
          if (c === "\\") {
            i++;
            out += p[i] ?? "";
          } else out += c;
        }
        if (!closed) {
          warn("invalid string found");
          return false;
        }
        p = out;
      }
      if (ev.stringValid(s, p)) {
        s.userVal = p;
        s.flags |= F.DEF_USER;
        return true;
      }
      warn(`symbol value '${p}' invalid for ${s.name}`);
      return false;
    }
    default:
      return true;
  }
}

/**
 * conf_read_simple(): loads user values from `.config` text. Unknown symbols
 * are ignored (conf does, silently). Returns the warnings conf would print.
 */
export function readConfigSimple(ev: Evaluator, text: string, file = ".config"): ConfigReadWarning[] {
  const warnings: ConfigReadWarning[] = [];
  const tree = ev.tree;
  for (const s of tree.hashOrder) {
    s.flags |= F.CHANGED;
    s.flags &= ~(F.DEF_USER | F.VALID);
    if (s.flags & F.CHOICE) s.flags |= F.DEF_USER;
    s.userVal = undefined;
    s.userTri = 0;
    s.userChoice = undefined;
  }
  const lines = text.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    const warn = (message: string) =>
      warnings.push({ line: lineNo, message: `${file}:${lineNo}:warning: ${message}` });
    let name: string;
    let val: string;
    if (raw[0] === "#") {
      if (raw[1] !== " ") return;
      if (!raw.startsWith("CONFIG_", 2)) return;
      const rest = raw.slice(9);
      const sp = rest.indexOf(" ");
      if (sp < 0) return;
      if (!rest.startsWith("is not set", sp + 1)) return;
      name = rest.slice(0, sp);
      val = "n";
    } else if (raw.startsWith("CONFIG_")) {
      const rest = raw.slice(7);
      const eq = rest.indexOf("=");
      if (eq < 0) return;
      name = rest.slice(0, eq);
      val = rest.slice(eq + 1).replace(/\r$/, "");
    } else {
      if (raw !== "" && raw !== "\r") warn(`unexpected data: ${raw.replace(/\r$/, "")}`);
      return;
    }
    const s = name.length === 1 && "ymn".includes(name) ? undefined : tree.syms.get(name);
    if (!s) return;
    if (s.flags & F.DEF_USER) warn(`override: reassigning to symbol ${s.name}`);
    if (!setSymVal(ev, s, val, warn)) return;
    if (s.flags & F.CHOICEVAL && s.choice) {
      const cs = s.choice;
      if (s.userTri === 1 && cs.userTri === 2) {
        warn(`${s.name} creates inconsistent choice state`);
        cs.flags &= ~F.DEF_USER;
      } else if (s.userTri === 2) {
        if (cs.userTri !== 0) warn(`override: ${s.name} changes choice state`);
        cs.userChoice = s;
      }
      cs.userTri = Math.max(cs.userTri, s.userTri) as Tri;
    }
  });
  return warnings;
}

/** conf_read(): conf_read_simple, then the consistency pass over all symbols. */
export function readConfig(ev: Evaluator, text: string, file = ".config"): ConfigReadWarning[] {
  const warnings = readConfigSimple(ev, text, file);
  const tree = ev.tree;
  ev.calc(tree.modules);
  let unsaved = 0;
  for (const s of tree.hashOrder) {
    ev.calc(s);
    if (s.flags & F.CHOICE || s.flags & F.NO_WRITE) continue;
    if (ev.hasValue(s) && s.flags & F.WRITE) {
      if (s.type === "bool" || s.type === "tristate") {
        if (s.userTri === s.curTri) continue;
      } else if (s.curVal === s.userVal) continue;
    } else if (!ev.hasValue(s) && !(s.flags & F.WRITE)) continue;
    unsaved++;
  }
  for (const s of tree.hashOrder) {
    if (ev.hasValue(s) && !(s.flags & F.CHOICEVAL)) {
      if (s.visible === 0 && !unsaved) s.flags &= ~F.DEF_USER;
      if (s.type === "string" || s.type === "int" || s.type === "hex") {
        if (!ev.stringWithinRange(s, s.userVal ?? "")) {
          s.flags &= ~(F.VALID | F.DEF_USER);
          unsaved++;
        }
      }
    }
  }
  return warnings;
}

/** escape_string_value(). */
export function escapeString(v: string): string {
  return `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function printSymbol(ev: Evaluator, s: Sym, nMode: "unset" | "none"): string {
  if (s.type === "unknown") return "";
  const v = ev.stringValue(s);
  if ((s.type === "bool" || s.type === "tristate") && v[0] === "n") {
    return nMode === "unset" ? `# CONFIG_${s.name} is not set\n` : "";
  }
  return `CONFIG_${s.name}=${s.type === "string" && nMode === "unset" ? escapeString(v) : v}\n`;
}

/** menu_is_visible(). */
export function menuIsVisible(ev: Evaluator, node: MenuNode): boolean {
  if (!node.prompt) return false;
  if (node.visibility && ev.calcExpr(node.visibility) === 0) return false;
  const s = node.sym;
  let visible: Tri;
  if (s) {
    ev.calc(s);
    visible = node.prompt.visTri;
  } else {
    visible = ev.calcExpr(node.prompt.cond);
    node.prompt.visTri = visible;
  }
  if (visible !== 0) return true;
  if (!s || s.curTri === 0) return false;
  for (let c = node.list; c; c = c.next) {
    if (menuIsVisible(ev, c)) {
      s.flags |= F.DEF_USER;
      return true;
    }
  }
  return false;
}

function heading(ev: Evaluator, d: string, prefix: string, postfix: string): string {
  return `${prefix}\n${d} Automatically generated file; DO NOT EDIT.\n${d} ${ev.tree.root.prompt?.text ?? ""}\n${postfix}\n`;
}

/** Pre-order walk of the menu tree, calling `leave` for nodes with children. */
function walk(root: MenuNode, enter: (n: MenuNode) => void, leave: (n: MenuNode) => void): void {
  let m: MenuNode | undefined = root.list;
  while (m) {
    enter(m);
    if (m.list) {
      m = m.list;
      continue;
    }
    for (;;) {
      leave(m);
      if (m.next) {
        m = m.next;
        break;
      }
      m = m.parent;
      if (!m || m === root) return;
    }
  }
}

/** conf_write(): the `.config` text. */
export function writeConfig(ev: Evaluator): string {
  const tree = ev.tree;
  const out: string[] = [heading(ev, "#", "#", "#")];
  let needNewline = false;
  const written = new Set<Sym>();
  walk(
    tree.root,
    (m) => {
      const s = m.sym;
      if (!s) {
        if (!menuIsVisible(ev, m)) return;
        out.push(`\n#\n# ${m.prompt?.text ?? ""}\n#\n`);
        needNewline = false;
      } else if (!(s.flags & F.CHOICE) && !written.has(s)) {
        ev.calc(s);
        if (!(s.flags & F.WRITE)) return;
        if (needNewline) {
          out.push("\n");
          needNewline = false;
        }
        written.add(s);
        out.push(printSymbol(ev, s, "unset"));
      }
    },
    (m) => {
      // Linux 5.2's conf_write (Unikraft) prints "end of" only on the way up from a menu's entries,
      // so a menu with none gets no such line; 6.1 checks every menu it leaves
      if (tree.dialect === "unikraft" && !m.list) return;
      if (!m.sym && m.prompt?.kind === "menu" && menuIsVisible(ev, m)) {
        out.push(`# end of ${m.prompt.text ?? ""}\n`);
        needNewline = true;
      }
    },
  );
  return out.join("");
}

/** conf_write_defconfig(): the minimal configuration savedefconfig writes. */
export function writeDefconfig(ev: Evaluator): string {
  const out: string[] = [];
  ev.clearAllValid();
  walk(
    ev.tree.root,
    (m) => {
      const s = m.sym;
      if (!s) return;
      if (s.flags & F.CHOICE) return;
      ev.calc(s);
      if (!(s.flags & F.WRITE)) return;
      s.flags &= ~F.WRITE;
      if (!(s.visible > s.revDepTri)) return;
      if (ev.stringValue(s) === ev.stringDefault(s)) return;
      if (s.flags & F.CHOICEVAL && s.choice) {
        const cs = s.choice;
        const ds = ev.choiceDefault(cs);
        if (!(cs.flags & F.OPTIONAL) && s === ds && s.type === "bool" && s.curTri === 2) return;
      }
      out.push(printSymbol(ev, s, "unset"));
    },
    () => {},
  );
  return out.join("");
}

/** include/generated/autoconf.h as conf_write_autoconf() writes it. */
export function writeAutoconf(ev: Evaluator): string {
  const out: string[] = [heading(ev, " *", "/*", " */")];
  for (const s of ev.tree.hashOrder) ev.calc(s);
  for (const s of ev.tree.hashOrder) {
    if (!(s.flags & F.WRITE) || !s.name || s.type === "unknown") continue;
    let v = ev.stringValue(s);
    let suffix = "";
    let prefix = "";
    if (s.type === "bool" || s.type === "tristate") {
      if (v[0] === "n") continue;
      if (v[0] === "m") suffix = "_MODULE";
      v = "1";
    } else if (s.type === "hex") {
      if (!/^0[xX]/.test(v)) prefix = "0x";
    } else if (s.type === "string") v = escapeString(v);
    out.push(`#define CONFIG_${s.name}${suffix} ${prefix}${v}\n`);
  }
  return out.join("");
}

/** include/config/auto.conf text (print_symbol_for_autoconf, symbol-table order). */
export function writeAutoConf(ev: Evaluator): string {
  const out: string[] = [heading(ev, "#", "#", "#")];
  for (const s of ev.tree.hashOrder) ev.calc(s);
  for (const s of ev.tree.hashOrder) {
    if (!(s.flags & F.WRITE) || !s.name) continue;
    out.push(
      printSymbol(ev, s, "none").replace(
        /^CONFIG_([^=]*)=(.*)$/s,
        (_l, n: string, v: string) => `CONFIG_${n}=${v}`,
      ),
    );
  }
  return out.join("");
}
