/**
 * menu_finalize() of Linux 6.1's menu.c: propagates menu/if/choice
 * dependencies into entries and their properties (with `m` rewritten to
 * `m && MODULES`), builds selects' and implies' reverse dependencies, creates
 * the automatic submenus that decide which entries of a choice are its
 * values, flattens `if` blocks, and gives non-optional choices their
 * `<visibility> && m` reverse dependency.
 */
import { and, containsSym, dependsOnSym, or, rewriteM, symExpr } from "./expr.js";
import type { Expr, KconfigTree, MenuNode, Prop } from "./types.js";
import { F } from "./types.js";

/** Finalizes the whole tree in place. */
export function finalizeTree(tree: KconfigTree): void {
  finalize(tree, tree.root);
}

function propsOf(node: MenuNode): Prop[] {
  if (node.sym) return node.sym.props;
  return node.prompt ? [node.prompt] : [];
}

function finalize(tree: KconfigTree, parent: MenuNode): void {
  const sym = parent.sym;
  const rw = (e: Expr | undefined) => rewriteM(e, tree.m, tree.modules);
  const isChoice = sym !== undefined && (sym.flags & F.CHOICE) !== 0;
  if (parent.list) {
    let parentDep: Expr | undefined;
    if (sym && isChoice) {
      if (sym.type === "unknown") {
        for (let m: MenuNode | undefined = parent.list; m; m = m.next) {
          if (m.sym && m.sym.type !== "unknown") {
            sym.type = m.sym.type;
            break;
          }
        }
      }
      for (let m: MenuNode | undefined = parent.list; m; m = m.next) {
        if (m.sym && m.sym.type === "unknown") m.sym.type = sym.type;
      }
      parentDep = symExpr(sym);
    } else {
      parentDep = parent.dep;
    }
    for (let m: MenuNode | undefined = parent.list; m; m = m.next) {
      const baseDep = and(parentDep, rw(m.dep));
      m.dep = baseDep;
      for (const prop of propsOf(m)) {
        if (prop.node !== m) continue;
        const dep = and(baseDep, rw(prop.cond));
        prop.cond = dep;
        if ((prop.kind === "select" || prop.kind === "imply") && prop.expr?.k === "sym" && m.sym) {
          const target = prop.expr.s;
          const term = and(symExpr(m.sym), dep);
          if (prop.kind === "select") target.revDep = or(target.revDep, term);
          else target.implied = or(target.implied, term);
        }
      }
    }
    for (let m: MenuNode | undefined = parent.list; m; m = m.next) finalize(tree, m);
  } else if (sym) {
    // Automatic submenu: following entries that depend on sym nest under it.
    let last: MenuNode | undefined;
    for (let m = parent.next; m; m = m.next) {
      const dep = m.prompt ? m.prompt.cond : m.dep;
      if (!containsSym(dep, sym)) break;
      if (!dependsOnSym(dep, sym, tree.y, tree.m, tree.n)) break;
      finalize(tree, m);
      m.parent = parent;
      last = m;
    }
    if (last) {
      parent.list = parent.next;
      parent.next = last.next;
      last.next = undefined;
    }
    sym.dirDep = or(sym.dirDep, parent.dep);
  }
  for (let m: MenuNode | undefined = parent.list; m; m = m.next) {
    if (sym && isChoice && m.sym && !(m.sym.flags & F.CHOICEVAL)) {
      m.sym.flags |= F.CHOICEVAL;
      m.sym.choice = sym;
      sym.choiceValues.push(m.sym);
      if (!m.prompt)
        tree.warnings.push(`${m.pos.file}:${m.pos.line}:warning: choice value must have a prompt`);
      for (const p of m.sym.props) {
        if (p.kind === "default") {
          tree.warnings.push(`${p.pos.file}:${p.pos.line}:warning: defaults for choice values not supported`);
        }
      }
      if (sym.type === "tristate" && m.sym.type !== "tristate") {
        const base: Expr = { k: "cmp", op: "=", l: sym, r: tree.y };
        m.dep = and(base, m.dep);
        for (const p of m.sym.props) if (p.node === m) p.cond = and(base, p.cond);
      }
    }
    // flatten `if` blocks and undo submenus below promptless entries
    if (m.list && !m.prompt?.text) {
      let lastChild = m.list;
      for (;;) {
        lastChild.parent = parent;
        if (!lastChild.next) break;
        lastChild = lastChild.next;
      }
      lastChild.next = m.next;
      m.next = m.list;
      m.list = undefined;
    }
  }
  if (sym && !(sym.flags & F.WARNED)) {
    if (sym.type === "unknown") {
      tree.warnings.push(`${parent.pos.file}:${parent.pos.line}:warning: config symbol defined without type`);
    }
    if (isChoice && !parent.prompt) {
      tree.warnings.push(`${parent.pos.file}:${parent.pos.line}:warning: choice must have a prompt`);
    }
    sym.flags |= F.WARNED;
  }
  if (sym && !(sym.flags & F.OPTIONAL) && parent.prompt) {
    sym.revDep = or(sym.revDep, and(parent.prompt.cond, symExpr(tree.m)));
  }
}
