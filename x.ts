import { openSlideAt } from "./packages/wsi/src/slide";
const s = await openSlideAt("/tmp/fd-series");
await s.readRawTile(0, 0, 0);
let t = performance.now();
for (let r = 0; r < 40; r++) for (let c = 0; c < 128; c++) await s.readRawTile(0, c, r);
console.log("raw ms", ((performance.now() - t) / 5120).toFixed(3));
await s.close();
