/**
 * Recursive dependency detection (symbol.c sym_check_deps): a symbol whose
 * dependencies, selects, implies, prompt conditions or default values lead
 * back to itself is an error, reported as conf reports it: the first
 * definition, then each step of the cycle. A choice and its values count as
 * one node, as sym_check_choice_deps() treats them.
 */
import { KilnError } from "../core/errors.js";
import { exprSyms } from "./expr.js";
import type { KconfigTree, Pos, Sym } from "./types.js";
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

/** Throws KCONFIG_RECURSIVE_DEP for the first cycle found, in symbol-table order. */
export function checkRecursiveDeps(tree: KconfigTree): void {
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
