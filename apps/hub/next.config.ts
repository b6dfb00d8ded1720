import type { NextConfig } from "next";

const config: NextConfig = {
  // Workspace packages are TypeScript source; native and WASM modules stay outside the bundle.
  transpilePackages: ["@pathx/api", "@pathx/db", "@pathx/storage", "@pathx/wsi"],
  serverExternalPackages: ["@electric-sql/pglite", "@julusian/jpeg-turbo", "sharp", "pg-boss", "postgres", "@cornerstonejs/codec-openjpeg", "koffi"],
  poweredByHeader: false,
};

export default config;
