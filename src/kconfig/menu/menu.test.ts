import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { openLinuxTree } from "../linux.js";
import { olddefconfig } from "../ops.js";
import { parseKconfig } from "../parser.js";
import { type Key, MenuState, renderText } from "./index.js";
import { defconfigList, openLinuxMenu } from "./session.js";

const FIXTURE = fileURLToPath(new URL("../../../test/fixtures/kconfig-menu", import.meta.url));

function open(dotconfig = "", marks = new Map<string, string>()) {
  const lt = openLinuxTree(FIXTURE, "x86_64", { env: { CC_VERSION_TEXT: "gcc (fixture)" } });
  const tree = parseKconfig("Kconfig", lt.host);
  lt.done();
  const cfg = olddefconfig(tree, dotconfig);
  return { tree, cfg, st: new MenuState(cfg, tree.root.prompt?.text ?? "", marks) };
}

function keys(st: MenuState, ...ks: Key[]): string {
  for (const k of ks) st.press(k);
  return renderText(st, 80, 24);
}

const typed = (s: string): Key[] => [...s];
const listLines = (screen: string) => screen.split("\n").slice(3, 21);

describe("menu model", () => {
  it("renders the root menu as mconf lists it, 24 lines of at most 80 columns", () => {
    const { st } = open();
    const screen = keys(st);
    const lines = screen.split("\n");
    assert.equal(lines.length, 24);
    assert.ok(lines.every((l) => l.length <= 80));
    assert.equal(lines[0], " Fixture/x86 6.1.0 Kernel Configuration");
    assert.deepEqual(
      listLines(screen).filter((l) => l.trim()),
      [
        ">    General setup  --->",
        " [ ] Enable loadable module support (NEW)",
        " [ ] Cryptographic API (NEW)  ----",
        "     Device Drivers  --->",
      ],
    );
  });

  it("opens a menu, shows values, choices, comments and indented dependents; Esc goes back", () => {
    const { st } = open();
    const screen = keys(st, "enter");
    assert.match(screen, /^ Main menu > General setup$/m);
    assert.match(screen, /^>\(\) {2}Local version - append to kernel release \(NEW\)$/m);
    assert.match(screen, /^ \(17\) Kernel log buffer size/m);
    assert.match(screen, /^ \[\*\] Support for paging of anonymous memory \(swap\) \(NEW\)$/m);
    assert.match(screen, /^ {5}\*\*\* Timers \*\*\*$/m);
    assert.match(screen, /^ {5}Timer tick handling \(Periodic timer ticks/m);
    // ZSWAP depends on CRYPTO (n): hidden
    assert.doesNotMatch(screen, /Compressed cache/);
    const back = keys(st, "escape");
    assert.match(back, /^> {4}General setup {2}--->$/m);
  });

  it("toggles a bool with Space and y/n, sets a tristate to m only with MODULES, refuses what is impossible", () => {
    const { st, cfg } = open();
    keys(st, "down");
    assert.match(keys(st, " "), /^>\[\*\] Enable loadable module support$/m);
    assert.equal(cfg.value("MODULES"), "y");
    assert.ok(st.dirty);
    keys(st, "end", "enter", "down", "down", "down");
    assert.match(keys(st, "m"), /^><M> {3}Virtio console$/m);
    assert.equal(cfg.value("VIRTIO_CONSOLE"), "m");
    keys(st, "home");
    assert.match(keys(st, "n"), /^>\[ \] Networking support/m);
    // NET is n, so VIRTIO_NET is hidden; z shows it greyed with the reason
    let s = keys(st, "z");
    assert.match(s, /^ - - {3}Virtio network driver \(hidden\)$/m);
    s = keys(st, "down");
    assert.match(s, /hidden: depends on NET \[=n\]/);
    s = keys(st, "y");
    assert.match(s, /VIRTIO_NET cannot be y: depends on NET \[=n\]/);
    assert.equal(cfg.value("VIRTIO_NET"), "n");
  });

  it("edits a string and an int within its range", () => {
    const { st, cfg } = open();
    keys(st, "enter", "enter", ...typed("-kiln"), "enter");
    assert.equal(cfg.value("LOCALVERSION"), "-kiln");
    keys(st, "down", "enter", "backspace", "backspace", ...typed("99"), "enter");
    assert.match(renderText(st, 80, 24), /'99' is not a valid int for LOG_BUF_SHIFT/);
    keys(st, "backspace", "backspace", ...typed("20"), "enter");
    assert.equal(cfg.value("LOG_BUF_SHIFT"), "20");
    assert.match(renderText(st, 80, 24), /^>\(20\) Kernel log buffer size/m);
  });

  it("selects a choice value in the choice's screen", () => {
    const { st, cfg } = open();
    keys(st, "enter", "end");
    const inChoice = keys(st, "enter");
    assert.match(inChoice, /^ Main menu > General setup > Timer tick handling$/m);
    assert.match(inChoice, /^>\(X\) Periodic timer ticks/m);
    const back = keys(st, "down", "enter");
    assert.match(back, /Timer tick handling \(Idle dynticks system \(tickless idle\)\)/);
    assert.equal(cfg.value("NO_HZ_IDLE"), "y");
    assert.equal(cfg.value("HZ_PERIODIC"), "n");
  });

  it("searches by name substring and by prompt regex, lists menu paths and values, jumps to a result", () => {
    const { st } = open();
    let s = keys(st, "/", ...typed("virtio_"), "enter");
    assert.match(s, /Search: 'virtio_' \(substring\): 2 found/);
    assert.match(s, /^>VIRTIO_CONSOLE \[=n\] {2}Virtio console$/m);
    assert.match(s, /^ {4}-> Main menu -> Device Drivers$/m);
    s = keys(st, "/", "tab", ...typed("^(aes|periodic) "), "enter");
    assert.match(s, /\(regex\): 2 found/);
    assert.match(s, /^>CRYPTO_AES \[=n\] {2}AES cipher algorithms$/m);
    assert.match(s, /^ {4}-> Main menu -> Cryptographic API$/m);
    assert.match(s, /^ HZ_PERIODIC \[=y\]/m);
    assert.match(keys(st, "/", "(", "enter"), /'\(' is not a valid regular expression/);
    s = keys(st, "escape", "/", "tab", ...typed("console"), "enter", "enter");
    assert.match(s, /^ Main menu > Device Drivers$/m);
    assert.match(s, /^>\[ \] {3}Virtio console/m);
    // Esc from a jump lands on the menu entry that leads there
    assert.match(keys(st, "escape"), /^> {4}Device Drivers {2}--->$/m);
  });

  it("why: definitions, each dependency term with its value, the blocking one; jumping to it", () => {
    const { st } = open();
    let s = keys(st, "/", ...typed("ZSWAP"), "enter", "enter");
    // hidden: the jump turned on hidden entries
    assert.match(s, /^>- - {3}Compressed cache for swap pages \(hidden\)$/m);
    s = keys(st, "w");
    assert.match(s, /^ ZSWAP = n {2}\(bool, cannot be changed here\)$/m);
    assert.match(s, /^ Defined at Kconfig:21 {2}"Compressed cache for swap pages"$/m);
    assert.match(s, /^ Depends on: SWAP && CRYPTO \[=n\]$/m);
    assert.match(s, /^ {3}SWAP \[=y\]$/m);
    assert.match(s, /^> {2}BLOCKING CRYPTO \[=n\]$/m);
    s = keys(st, "enter");
    assert.match(s, /^>\[ \] Cryptographic API \(NEW\) {2}----$/m);
    s = keys(st, "y", "/", ...typed("ZSWAP"), "enter", "enter");
    assert.match(s, /^>\[ \] {3}Compressed cache for swap pages \(NEW\)$/m);
  });

  it("why names selectors and the default that applied", () => {
    const { st } = open("CONFIG_CRYPTO=y\nCONFIG_MODULES=y\nCONFIG_CRYPTO_AES=m\n");
    let s = keys(st, "/", ...typed("CRYPTO_ALGAPI"), "enter", "w");
    assert.match(s, /^ CRYPTO_ALGAPI = m {2}\(tristate, cannot be changed here\)$/m);
    assert.match(s, /^ Hidden: it has no prompt/m);
    assert.match(s, /^ Selected by:$/m);
    assert.match(s, /^ {3}CRYPTO_AES && CRYPTO \[=m\]$/m);
    s = keys(st, "escape", "/", ...typed("LOG_BUF"), "enter", "enter", "w");
    assert.match(s, /^ Default applied: 17 \(Kconfig:15\)$/m);
    assert.match(s, /^ Range: 12\.\.25$/m);
  });

  it("help shows the help text and where the symbol is", () => {
    const { st } = open();
    const s = keys(st, "/", ...typed("VIRTIO_NET"), "enter", "?");
    assert.match(s, /^ The network device of virtio machines\.$/m);
    assert.match(s, /^ Symbol: VIRTIO_NET \[=n\]$/m);
    assert.match(s, /^ {3}Location: Main menu -> Device Drivers$/m);
  });

  it("scrolls with PgDn/End in a screen taller than the list, and redraws at a new size", () => {
    const { st } = open();
    keys(st, "/", "enter");
    const s = renderText(st, 80, 12);
    assert.equal(s.split("\n").length, 12);
    assert.match(keys(st, "end"), /^>ZSWAP \[=n\] {2}Compressed cache for swap pages$/m);
    const wide = renderText(st, 120, 30);
    assert.ok(wide.split("\n").length === 30 && wide.split("\n")[2]?.length === 120);
  });

  it("marks entries the Kraftfile set and names the line", () => {
    const { st } = open("", new Map([["SWAP", "Kraftfile:7 (kconfig:)"]]));
    let s = keys(st, "enter", "down", "down");
    assert.match(s, /^>\[\*\] Support for paging of anonymous memory \(swap\) \(NEW\) \[Kraftfile\]$/m);
    assert.match(s, /set by Kraftfile:7 \(kconfig:\)/);
    s = keys(st, "w");
    assert.match(s, /^ Set by the project: Kraftfile:7 \(kconfig:\)$/m);
  });

  it("asks before leaving with unsaved changes; Ctrl-C aborts", () => {
    const { st } = open();
    assert.equal(st.press("q"), "quit");
    st.press("down");
    st.press(" ");
    assert.equal(st.press("escape"), "none");
    assert.match(renderText(st, 80, 24), /There are unsaved changes\. Save them\?/);
    assert.equal(st.press("escape"), "none");
    assert.equal(st.press("s"), "save");
    assert.equal(st.press("q"), "none");
    assert.equal(st.press("y"), "save-quit");
    assert.equal(st.press("ctrl-c"), "abort");
  });

  it("without an input starts from the first of KCONFIG_DEFCONFIG_LIST that exists, as conf_read(NULL), and asks to save", () => {
    assert.deepEqual(defconfigList(FIXTURE, "x86_64", "x86", true), ["arch/x86/configs/x86_64_defconfig"]);
    const native = defconfigList(FIXTURE, "x86_64", "x86", false);
    assert.match(native[2] ?? "", /^\/boot\/config-/);
    const m = openLinuxMenu({
      srctree: FIXTURE,
      arch: "x86_64",
      outFile: "/nonexistent/out.config",
      defaults: ["/nonexistent/.config", "arch/x86/configs/x86_64_defconfig"],
    });
    assert.equal(m.state.cfg.value("CRYPTO"), "y");
    assert.equal(m.state.cfg.value("NET"), "y");
    assert.ok(m.state.dirty);
    assert.match(
      renderText(m.state, 80, 24),
      /^using defaults found in arch\/x86\/configs\/x86_64_defconfig$/m,
    );
    assert.equal(m.state.press("q"), "none");
  });
});

describe("menu model: project targets", () => {
  it("K saves into the Kraftfile only when the session has one, and the footer says so in 80 columns", () => {
    const { st } = open();
    assert.equal(st.press("K"), "none");
    st.kraftfileSave = true;
    const screen = keys(st);
    assert.match(
      screen,
      /^Enter:open Spc\/y\/n\/m:set \?:help w:why \/:find z:hidden s:save K:Kraftfile q:quit$/m,
    );
    assert.ok(screen.split("\n").every((l) => l.length <= 80));
    assert.equal(st.press("K"), "save-kraftfile");
  });

  it("records the symbols the user set, last change last, not those changed as a consequence", () => {
    const { st } = open();
    keys(st, "down", " ");
    keys(st, "up", "enter", "down", "down", " ");
    assert.deepEqual([...st.userSet], ["MODULES", "SWAP"]);
    keys(st, "escape", "down", " ");
    assert.deepEqual([...st.userSet], ["SWAP", "MODULES"]);
  });
});
