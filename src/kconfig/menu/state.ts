/**
 * The menu's keyboard state machine: no terminal, no I/O. Keys come in as
 * names (`up`, `pagedown`, `enter`, `escape`, or the character typed); the
 * state changes the {@link Config} in memory as mconf would and answers with
 * what the shell must do (save, quit). Key bindings follow mconf where it
 * has one (Space toggles, y/n/m set, `?` help, `/` search, `z` shows hidden
 * entries, Esc goes back) and add `w` for the why panel and `s` to save.
 */
import type { Config } from "../ops.js";
import type { MenuNode } from "../types.js";
import { F } from "../types.js";
import { hiddenReason, setString, setTri, symValue, triOf } from "./engine.js";
import { helpPanel, type Panel, type Provenance, panelKey, whyPanel } from "./panels.js";
import { buildRows, isVisible, type Row, screenPath } from "./rows.js";
import { type SearchResult, search } from "./search.js";

/** A key: a name for special keys, else the character typed. */
export type Key =
  | "up"
  | "down"
  | "left"
  | "right"
  | "pageup"
  | "pagedown"
  | "home"
  | "end"
  | "enter"
  | "escape"
  | "backspace"
  | "tab"
  | "ctrl-c"
  | (string & {});

/**
 * What the shell does after a key. `save-kraftfile` (project targets only,
 * key `K`): save the configuration and write the entries the user changed
 * into the Kraftfile's `kconfig:`.
 */
export type Action = "none" | "save" | "quit" | "save-quit" | "abort" | "save-kraftfile";

interface Screen {
  menu: MenuNode;
  cursor: number;
  top: number;
}

/** The state of one menu session. */
export class MenuState {
  stack: Screen[];
  showAll = false;
  mode: "menu" | "panel" | "search" | "results" | "edit" | "confirm-quit" = "menu";
  panel: Panel | undefined;
  query = "";
  regex = false;
  results: SearchResult[] = [];
  resultCursor = 0;
  resultTop = 0;
  editText = "";
  editNode: MenuNode | undefined;
  /** Where Esc from a panel returns. */
  panelFrom: "menu" | "results" = "menu";
  /** A one-line message for the status bar (cleared by the next key). */
  message: string | undefined;
  dirty = false;
  /** Symbols the user set in this session (what a Kraftfile save writes), in order. */
  readonly userSet = new Set<string>();
  /** Whether `K` saves into a Kraftfile (a project target's menu). */
  kraftfileSave = false;
  width = 80;
  height = 24;
  private rowsCache: Row[] | undefined;

  constructor(
    readonly cfg: Config,
    readonly title: string,
    readonly marks: Provenance = new Map(),
  ) {
    this.stack = [{ menu: cfg.tree.root, cursor: 0, top: 0 }];
  }

  /** Rows the list area holds at the current size (title, path, rule above; rule, status, keys below). */
  get listRows(): number {
    return Math.max(3, this.height - 6);
  }

  get screen(): Screen {
    return this.stack[this.stack.length - 1] as Screen;
  }

  /** The rows of the current screen (recomputed after every change). */
  rows(): Row[] {
    this.rowsCache ??= buildRows(this.cfg, this.screen.menu, this.showAll);
    return this.rowsCache;
  }

  current(): Row | undefined {
    return this.rows()[this.screen.cursor];
  }

  resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.scrollIntoView();
  }

  /** After a save: the configuration on disk matches. */
  markSaved(message: string): void {
    this.dirty = false;
    this.message = message;
  }

  private invalidate(): void {
    this.rowsCache = undefined;
    const n = this.rows().length;
    if (this.screen.cursor >= n) this.screen.cursor = Math.max(0, n - 1);
    this.scrollIntoView();
  }

  private scrollIntoView(): void {
    const sc = this.screen;
    const h = this.listRows;
    if (sc.cursor < sc.top) sc.top = sc.cursor;
    if (sc.cursor >= sc.top + h) sc.top = sc.cursor - h + 1;
  }

  private move(delta: number, absolute?: number): void {
    const n = this.rows().length;
    if (n === 0) return;
    const sc = this.screen;
    sc.cursor = Math.min(n - 1, Math.max(0, absolute ?? sc.cursor + delta));
    this.scrollIntoView();
  }

  /** Feeds one key; returns what the shell must do. */
  press(key: Key): Action {
    this.message = undefined;
    if (key === "ctrl-c") return "abort";
    switch (this.mode) {
      case "menu":
        return this.menuKey(key);
      case "panel":
        return this.panelKey(key);
      case "search":
        return this.searchKey(key);
      case "results":
        return this.resultsKey(key);
      case "edit":
        return this.editKey(key);
      case "confirm-quit":
        if (key === "y" || key === "enter") return "save-quit";
        if (key === "n") return "quit";
        if (key === "escape") this.mode = "menu";
        else this.message = "Save your changes? y: save and quit, n: quit without saving, Esc: stay";
        return "none";
    }
  }

  private changed(name: string): void {
    this.dirty = true;
    this.userSet.delete(name);
    this.userSet.add(name);
  }

  private back(): Action {
    if (this.stack.length > 1) {
      this.stack.pop();
      this.invalidate();
      return "none";
    }
    if (!this.dirty) return "quit";
    this.mode = "confirm-quit";
    return "none";
  }

  private menuKey(key: Key): Action {
    const lh = this.listRows;
    switch (key) {
      case "up":
        this.move(-1);
        return "none";
      case "down":
        this.move(1);
        return "none";
      case "pageup":
        this.move(-lh);
        return "none";
      case "pagedown":
        this.move(lh);
        return "none";
      case "home":
        this.move(0, 0);
        return "none";
      case "end":
        this.move(0, this.rows().length - 1);
        return "none";
      case "escape":
      case "left":
        return this.back();
      case "q":
        if (!this.dirty) return "quit";
        this.mode = "confirm-quit";
        return "none";
      case "enter":
      case "right":
        this.enter(key === "right");
        return "none";
      case " ":
        this.toggle();
        return "none";
      case "y":
      case "m":
      case "n":
        this.setKey(key as "y" | "m" | "n");
        return "none";
      case "?":
        this.openPanel("help");
        return "none";
      case "w":
        this.openPanel("why");
        return "none";
      case "/":
        this.startSearch();
        return "none";
      case "z":
        this.showAll = !this.showAll;
        this.message = this.showAll ? "Showing hidden entries (z hides them)" : "Hiding hidden entries";
        this.invalidate();
        return "none";
      case "s":
        return "save";
      case "K":
        return this.kraftfileSave ? "save-kraftfile" : "none";
      default:
        return "none";
    }
  }

  private enter(rightOnly: boolean): void {
    const row = this.current();
    if (!row) return;
    const s = row.node.sym;
    if (this.screen.menu.kind === "choice" && s) {
      if (!setTri(this.cfg, s, 2))
        this.message = `${s.name} cannot be selected: ${row.hidden ?? "not changeable"}`;
      else this.changed(s.name);
      if (!rightOnly) this.back();
      this.invalidate();
      return;
    }
    if (row.opens) {
      this.stack.push({ menu: row.node, cursor: 0, top: 0 });
      this.invalidate();
      return;
    }
    if (rightOnly || !s) return;
    if (s.type === "bool" || s.type === "tristate") this.toggle();
    else {
      this.mode = "edit";
      this.editNode = row.node;
      this.editText = symValue(this.cfg, s);
    }
  }

  private toggle(): void {
    const row = this.current();
    const s = row?.node.sym;
    if (!s || !(s.type === "bool" || s.type === "tristate") || s.flags & F.CHOICE) {
      if (row?.node.kind === "choice" || (s && s.flags & F.CHOICE)) this.enter(false);
      return;
    }
    if (this.screen.menu.kind === "choice") {
      this.enter(true);
      return;
    }
    // sym_toggle_tristate_value(): n → m → y → n, skipping what is not allowed
    const old = triOf(this.cfg, s);
    let v = old;
    do {
      v = ((v + 1) % 3) as 0 | 1 | 2;
      if (setTri(this.cfg, s, v)) {
        this.changed(s.name);
        break;
      }
    } while (v !== old);
    if (v === old) this.message = this.refusal(row, s.name);
    this.invalidate();
  }

  private refusal(row: Row | undefined, name: string): string {
    if (row?.hidden) return `${name} is hidden: ${row.hidden} (w: why)`;
    return `${name} cannot be changed here (w: why)`;
  }

  private setKey(key: "y" | "m" | "n"): void {
    const row = this.current();
    const s = row?.node.sym;
    if (!s || !(s.type === "bool" || s.type === "tristate")) return;
    const tri = key === "y" ? 2 : key === "m" ? 1 : 0;
    if (triOf(this.cfg, s) === tri) return;
    if (setTri(this.cfg, s, tri)) this.changed(s.name);
    else
      this.message = `${s.name} cannot be ${key}: ${row?.hidden ?? "not allowed by its dependencies or selects"} (w: why)`;
    this.invalidate();
  }

  private startSearch(): void {
    this.mode = "search";
    this.query = "";
  }

  private openPanel(kind: "help" | "why"): void {
    const row = this.current();
    if (row) this.showPanel(kind, row.node, "menu");
  }

  private showPanel(kind: "help" | "why", node: MenuNode, from: "menu" | "results"): void {
    this.panel =
      kind === "help" ? helpPanel(this.cfg, node, this.marks) : whyPanel(this.cfg, node, this.marks);
    this.panelFrom = from;
    this.mode = "panel";
  }

  private panelKey(key: Key): Action {
    const r = panelKey(this.panel as Panel, key, this.listRows - 1);
    if (r === "toggle-hidden") {
      this.showAll = !this.showAll;
      this.invalidate();
    } else if (r !== undefined) {
      this.mode = r === "close" ? this.panelFrom : "menu";
      this.panel = undefined;
      if (typeof r === "object") this.jumpToSymbol(r.jump);
    }
    return "none";
  }

  private searchKey(key: Key): Action {
    if (key === "escape") this.mode = "menu";
    else if (key === "tab") this.regex = !this.regex;
    else if (key === "backspace") this.query = this.query.slice(0, -1);
    else if (key === "enter") {
      try {
        this.results = search(this.cfg, this.query, this.regex);
        this.resultCursor = 0;
        this.resultTop = 0;
        this.mode = "results";
        if (!this.results.length) this.message = `No symbol matches '${this.query}'`;
      } catch (e) {
        this.message = (e as Error).message;
      }
    } else if ([...key].length === 1 && key >= " ") this.query += key;
    return "none";
  }

  /** Lines each search result takes on screen (symbol line, then its menu path). */
  static readonly RESULT_LINES = 2;

  private resultsKey(key: Key): Action {
    const n = this.results.length;
    const per = Math.max(1, Math.floor((this.listRows - 1) / MenuState.RESULT_LINES));
    const moveTo = (i: number) => {
      this.resultCursor = Math.min(Math.max(0, n - 1), Math.max(0, i));
      if (this.resultCursor < this.resultTop) this.resultTop = this.resultCursor;
      if (this.resultCursor >= this.resultTop + per) this.resultTop = this.resultCursor - per + 1;
    };
    if (key === "up") moveTo(this.resultCursor - 1);
    else if (key === "down") moveTo(this.resultCursor + 1);
    else if (key === "pageup") moveTo(this.resultCursor - per);
    else if (key === "pagedown") moveTo(this.resultCursor + per);
    else if (key === "home") moveTo(0);
    else if (key === "end") moveTo(n - 1);
    else if (key === "escape" || key === "left") this.mode = "menu";
    else if (key === "/") this.startSearch();
    else if (key === "w" || key === "?") {
      const s = this.cfg.tree.syms.get(this.results[this.resultCursor]?.symbol ?? "");
      const node = s?.nodes.find((n) => n.prompt) ?? s?.nodes[0];
      if (node) this.showPanel(key === "w" ? "why" : "help", node, "results");
    } else if (key === "enter") {
      const r = this.results[this.resultCursor];
      if (r) {
        this.mode = "menu";
        this.jumpToSymbol(r.symbol);
      }
    }
    return "none";
  }

  private editKey(key: Key): Action {
    const node = this.editNode as MenuNode;
    const s = node.sym;
    if (key === "escape") this.mode = "menu";
    else if (key === "backspace") this.editText = this.editText.slice(0, -1);
    else if (key === "enter" && s) {
      if (setString(this.cfg, s, this.editText)) {
        this.changed(s.name);
        this.mode = "menu";
        this.invalidate();
      } else
        this.message = `'${this.editText}' is not a valid ${s.type} for ${s.name} (w: why shows its range)`;
    } else if ([...key].length === 1 && key >= " ") this.editText += key;
    return "none";
  }

  /**
   * Opens the screen listing `name` with the cursor on it. A hidden entry
   * turns on showing hidden entries so it can be seen.
   */
  jumpToSymbol(name: string): boolean {
    const s = this.cfg.tree.syms.get(name);
    const node = s?.nodes.find((n) => n.prompt);
    if (!node) {
      this.message = `${name} has no prompt: it is in no menu (set by defaults or select only)`;
      return false;
    }
    if (!isVisible(this.cfg, node) && !this.showAll) {
      this.showAll = true;
      this.message = `${name} hidden: ${hiddenReason(this.cfg, node)} (z: hide hidden entries again)`;
    }
    this.stack = screenPath(node).map((menu) => ({ menu, cursor: 0, top: 0 }));
    // each screen above points at the entry that leads down, so Esc comes back to it
    for (let k = 0; k + 1 < this.stack.length; k++) {
      const sc = this.stack[k] as Screen;
      const child = (this.stack[k + 1] as Screen).menu;
      sc.cursor = Math.max(
        0,
        buildRows(this.cfg, sc.menu, this.showAll).findIndex((r) => r.node === child),
      );
      sc.top = Math.max(0, sc.cursor - this.listRows + 1);
    }
    this.rowsCache = undefined;
    const i = this.rows().findIndex((r) => r.node === node);
    this.screen.cursor = Math.max(0, i);
    this.scrollIntoView();
    return i >= 0;
  }
}
