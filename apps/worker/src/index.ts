// For benchmarks that tile a slide in process (bench/serve); the worker itself runs src/main.ts.
export { tileSlide, type TileOptions, type TileOutcome } from "./tiling";
