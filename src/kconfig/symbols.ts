/**
 * Symbol creation and the order conf iterates symbols in (`for_all_symbols`:
 * symbol.c's 9973-bucket FNV-1a hash table, newest first within a bucket),
 * which is the order of include/generated/autoconf.h.
 */
import type { Sym } from "./types.js";

/** A fresh, untyped symbol (sym_lookup's memset). */
export function newSym(name: string, id: number): Sym {
  return {
    name,
    type: "unknown",
    flags: 0,
    props: [],
    nodes: [],
    curTri: 0,
    curVal: "",
    curChoice: undefined,
    userTri: 0,
    userVal: undefined,
    userChoice: undefined,
    visible: 0,
    dirDep: undefined,
    dirDepTri: 0,
    revDep: undefined,
    revDepTri: 0,
    implied: undefined,
    impliedTri: 0,
    choice: undefined,
    choiceValues: [],
    id,
  };
}

const SYMBOL_HASHSIZE = 9973;

/** symbol.c strhash(): 32-bit FNV-1a over the name's bytes. */
export function strhash(name: string): number {
  let h = 2166136261;
  // symbol names are ASCII in practice: hash UTF-16 units directly when they are bytes
  if (/^[\x00-\x7f]*$/.test(name)) {
    for (let i = 0; i < name.length; i++) h = Math.imul((h ^ name.charCodeAt(i)) >>> 0, 0x01000193) >>> 0;
    return h;
  }
  const bytes = Buffer.from(name, "utf8");
  for (const b of bytes) {
    // C hashes `char` (signed on x86): bytes ≥ 0x80 are sign-extended
    const c = b >= 0x80 ? b - 256 : b;
    h = Math.imul((h ^ c) >>> 0, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Symbols in for_all_symbols() order: by bucket, and within a bucket the most
 * recently created first. Choices (nameless) sit in bucket 0.
 */
export function strhashOrder(syms: Sym[], choices: Sym[]): Sym[] {
  const buckets = new Map<number, Sym[]>();
  const add = (b: number, s: Sym) => {
    const list = buckets.get(b);
    if (list) list.push(s);
    else buckets.set(b, [s]);
  };
  for (const s of syms) add(strhash(s.name) % SYMBOL_HASHSIZE, s);
  for (const c of choices) add(c.name ? strhash(c.name) % SYMBOL_HASHSIZE : 0, c);
  const out: Sym[] = [];
  for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
    const list = buckets.get(b) as Sym[];
    list.sort((x, y) => y.id - x.id);
    out.push(...list);
  }
  return out;
}
