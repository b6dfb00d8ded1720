// @cornerstonejs/codec-openjpeg ships no types for its WebAssembly entry: an Emscripten module factory.
declare module "@cornerstonejs/codec-openjpeg/wasmjs" {
  const factory: (options?: object) => Promise<unknown>;
  export default factory;
}
