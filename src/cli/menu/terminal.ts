/**
 * The terminal shell of the menu: ink (React for terminals) reads the keys
 * and draws the lines {@link render} produces; everything else is the pure
 * {@link MenuState}. Redraws when the terminal is resized; draws no color or
 * attributes under NO_COLOR (the text marks the cursor and hidden entries).
 * Ctrl-C leaves without writing anything.
 */
import { Box, type Key as InkKey, render as inkRender, Text, useApp, useInput, useStdout } from "ink";
import { createElement as h, useEffect, useState } from "react";
import { type Line, render } from "../../kconfig/menu/render.js";
import type { Key, MenuState } from "../../kconfig/menu/state.js";

/** How a menu session ended. */
export type MenuOutcome = "saved" | "quit" | "aborted";

/** What the shell needs: the state, saving, and whether to style. */
export interface TerminalMenuOptions {
  state: MenuState;
  save: () => Promise<string>;
  /** A project target's `K`: save and write the changed entries into the Kraftfile. */
  saveKraftfile?: () => Promise<string>;
  color: boolean;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

/** ink's key report as the state machine's key names. */
export function keyOf(input: string, key: InkKey): Key[] {
  if (key.ctrl && input === "c") return ["ctrl-c"];
  if (key.upArrow) return ["up"];
  if (key.downArrow) return ["down"];
  if (key.leftArrow) return ["left"];
  if (key.rightArrow) return ["right"];
  if (key.pageUp) return ["pageup"];
  if (key.pageDown) return ["pagedown"];
  if (key.home) return ["home"];
  if (key.end) return ["end"];
  if (key.return) return ["enter"];
  if (key.escape) return ["escape"];
  if (key.tab) return ["tab"];
  if (key.backspace || key.delete) return ["backspace"];
  if (key.ctrl || key.meta) return [];
  // ink hands over text that arrived in one read as one string, keys and all:
  // "abc\r" when a pasted or fast-typed line and its Enter come together
  return [...input].flatMap((c): Key[] => {
    if (c === "\r" || c === "\n") return ["enter"];
    if (c === "\t") return ["tab"];
    if (c === "\x7f" || c === "\b") return ["backspace"];
    return c < " " ? [] : [c];
  });
}

function lineElement(l: Line, i: number, color: boolean) {
  const props: Record<string, unknown> = { key: i, wrap: "truncate" };
  if (color) {
    if (l.style === "title") props.bold = true;
    if (l.style === "cursor" || l.style === "cursor-dim") props.inverse = true;
    if (l.style === "dim" || l.style === "cursor-dim") props.dimColor = true;
    if (l.style === "error") props.color = "red";
  }
  return h(Text, props, l.text === "" ? " " : l.text);
}

function MenuApp(props: TerminalMenuOptions & { done: (o: MenuOutcome) => void }) {
  const { stdout } = useStdout();
  const { exit } = useApp();
  const [size, setSize] = useState({ w: stdout.columns || 80, h: stdout.rows || 24 });
  const [, setTick] = useState(0);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const onResize = () => setSize({ w: stdout.columns || 80, h: stdout.rows || 24 });
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout]);
  const finish = (o: MenuOutcome) => {
    props.done(o);
    exit();
  };
  useInput(
    (input, key) => {
      for (const k of keyOf(input, key)) {
        const action = props.state.press(k);
        if (action === "abort") return finish("aborted");
        if (action === "quit") return finish("quit");
        if (action === "save" || action === "save-quit" || action === "save-kraftfile") {
          setBusy(true);
          const save = action === "save-kraftfile" && props.saveKraftfile ? props.saveKraftfile : props.save;
          save()
            .then((msg) => {
              props.state.markSaved(msg);
              if (action === "save-quit") finish("saved");
            })
            .catch((e: Error) => {
              props.state.message = `Not saved: ${e.message}`;
            })
            .finally(() => {
              setBusy(false);
              setTick((t) => t + 1);
            });
          return;
        }
      }
      setTick((t) => t + 1);
    },
    { isActive: !busy },
  );
  // one line less than the terminal: ink ends its frame with a newline, and a full-height frame would scroll
  const lines = render(props.state, Math.max(40, size.w), Math.max(12, size.h - 1));
  return h(
    Box,
    { flexDirection: "column", width: size.w },
    lines.map((l, i) => lineElement(l, i, props.color)),
  );
}

/** Runs the menu in the terminal until the user quits; resolves with how it ended. */
export async function runTerminalMenu(opts: TerminalMenuOptions): Promise<MenuOutcome> {
  let outcome: MenuOutcome = "aborted";
  const app = inkRender(
    h(MenuApp, {
      ...opts,
      done: (o: MenuOutcome) => {
        outcome = o;
      },
    }),
    {
      stdin: opts.stdin ?? process.stdin,
      stdout: opts.stdout ?? process.stdout,
      exitOnCtrlC: false,
      patchConsole: false,
    },
  );
  await app.waitUntilExit();
  return outcome;
}
