/**
 * The Kconfig menu (`kiln config menu`, `kiln menu`): a pure model of
 * mconf's screens, keys, search and a why panel, rendered to text lines; the
 * terminal shell lives in the CLI.
 */
export { type WhyFacts, whyFacts } from "./engine.js";
export type { Panel, PanelLine, Provenance } from "./panels.js";
export { type Line, type LineStyle, render, renderText } from "./render.js";
export { buildRows, type Row } from "./rows.js";
export { type SearchResult, search } from "./search.js";
export { type Action, type Key, MenuState } from "./state.js";
