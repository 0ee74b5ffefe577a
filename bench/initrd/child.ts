/** Child process of the benchmark: pack TREE into OUT with Kiln, print timing and peak RSS as JSON. */
import { packCpio } from "../../src/image/cpio/index.js";

const [tree, out] = process.argv.slice(2);
const started = performance.now();
const r = await packCpio({ sourceDir: tree!, output: out!, sourceDateEpoch: 0 });
const packMs = performance.now() - started;
// maxRSS is in KiB (getrusage's ru_maxrss on Linux).
console.log(JSON.stringify({ ...r, packMs, maxRssKiB: process.resourceUsage().maxRSS }));
