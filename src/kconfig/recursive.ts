/**
 * Recursive dependency detection (symbol.c sym_check_deps): a symbol whose
 * dependencies, selects, implies, prompt conditions or default values lead
 * back to itself is an error, reported as conf reports it: the first
 * definition, then each step of the cycle. A choice and its values count as
 * one node, as sym_check_choice_deps() treats them.
 */
import { KilnError } from "../core/errors.js";
import { exprSyms } from "./expr.js";
import type { Expr, KconfigTree, Pos, Sym } from "./types.js";
import { F } from "./types.js";

interface Edge {
  to: Sym;
  how: string;
  pos: Pos;
}

function group(s: Sym): Sym {
  return s.flags & F.CHOICEVAL && s.choice ? s.choice : s;
}

/** Where conf points for a symbol's own dependencies: its first definition (the P_SYMBOL property). */
function firstPos(s: Sym): Pos {
  return s.nodes[0]?.pos ?? s.props[0]?.pos ?? { file: "", line: 0 };
}

function edgesOf(s: Sym): Edge[] {
  const out: Edge[] = [];
  const name = s.name || "<choice>";
  const add = (syms: Sym[], how: (t: Sym) => string, pos: Pos) => {
    for (const t of syms) out.push({ to: t, how: how(t), pos });
  };
  const p0 = firstPos(s);
  add(exprSyms(s.dirDep), (t) => `symbol ${name} depends on ${t.name}`, p0);
  add(exprSyms(s.revDep), (t) => `symbol ${name} is selected by ${t.name}`, p0);
  add(exprSyms(s.implied), (t) => `symbol ${name} is implied by ${t.name}`, p0);
  for (const p of s.props) {
    if (p.kind === "select" || p.kind === "imply") continue;
    add(exprSyms(p.cond), (t) => `symbol ${name} ${p.kind} is visible depending on ${t.name}`, p.pos);
    if (p.kind === "default" && !(s.flags & F.CHOICE)) {
      add(exprSyms(p.expr), (t) => `symbol ${name} default value contains ${t.name}`, p.pos);
    }
  }
  return out;
}

/** Pushes every symbol of `e` (duplicates allowed): the fast path for cycle search. */
function pushSyms(e: Expr | undefined, out: Sym[]): void {
  if (!e) return;
  switch (e.k) {
    case "sym":
      out.push(e.s);
      return;
    case "not":
      pushSyms(e.e, out);
      return;
    case "and":
    case "or":
      pushSyms(e.l, out);
      pushSyms(e.r, out);
      return;
    case "cmp":
      out.push(e.l, e.r);
  }
}

/** Targets of a group's dependency edges, without building messages (into a reused array). */
function targets(node: Sym, out: Sym[]): Sym[] {
  out.length = 0;
  const members = node.flags & F.CHOICE ? [node, ...node.choiceValues] : [node];
  for (const s of members) {
    pushSyms(s.dirDep, out);
    pushSyms(s.revDep, out);
    pushSyms(s.implied, out);
    for (const p of s.props) {
      if (p.kind === "select" || p.kind === "imply") continue;
      pushSyms(p.cond, out);
      if (p.kind === "default" && !(s.flags & F.CHOICE)) pushSyms(p.expr, out);
    }
  }
  return out;
}

/** Throws KCONFIG_RECURSIVE_DEP for the first cycle found, in symbol-table order. */
export function checkRecursiveDeps(tree: KconfigTree): void {
  // Tarjan-free fast pass: colour DFS without messages; only a found cycle is re-walked for its report.
  const colour = new Map<Sym, 1 | 2>();
  const scratch: Sym[] = [];
  let cyclic = false;
  const fast = (node: Sym): void => {
    colour.set(node, 1);
    for (const t0 of [...targets(node, scratch)]) {
      const t = group(t0);
      if (t === node || t.flags & F.CONST || t.type === "unknown") continue;
      const c = colour.get(t);
      if (c === 2) continue;
      if (c === 1) {
        cyclic = true;
        return;
      }
      fast(t);
      if (cyclic) return;
    }
    colour.set(node, 2);
  };
  for (const s of tree.hashOrder) {
    const g = group(s);
    if (colour.has(g) || g.type === "unknown") continue;
    fast(g);
    if (cyclic) break;
  }
  if (!cyclic) return;
  const state = new Map<Sym, 1 | 2>();
  const stack: { node: Sym; edge?: Edge }[] = [];
  const visit = (node: Sym): Edge[] | undefined => {
    state.set(node, 1);
    const members = node.flags & F.CHOICE ? [node, ...node.choiceValues] : [node];
    for (const m of members) {
      for (const e of edgesOf(m)) {
        const to = group(e.to);
        if (to === node || to.flags & F.CONST || to.type === "unknown") continue;
        const st = state.get(to);
        if (st === 2) continue;
        stack.push({ node, edge: e });
        if (st === 1) {
          const start = stack.findIndex((f) => f.node === to);
          return stack.slice(start).map((f) => f.edge as Edge);
        }
        const cyc = visit(to);
        if (cyc) return cyc;
        stack.pop();
      }
    }
    state.set(node, 2);
    return undefined;
  };
  for (const s of tree.hashOrder) {
    const g = group(s);
    if (state.has(g) || g.type === "unknown") continue;
    stack.length = 0;
    const cycle = visit(g);
    if (cycle && cycle.length > 0) {
      const first = cycle[0] as Edge;
      const lines = cycle.map((e) => `${e.pos.file}:${e.pos.line}:\t${e.how}`);
      throw new KilnError(
        "KCONFIG_RECURSIVE_DEP",
        `${first.pos.file}:${first.pos.line}:error: recursive dependency detected!`,
        {
          location: { file: first.pos.file, line: first.pos.line, col: 1 },
          details: [
            ...lines,
            "For a resolution refer to Documentation/kbuild/kconfig-language.rst",
            'subsection "Kconfig recursive dependency limitations"',
          ],
        },
      );
    }
  }
}
