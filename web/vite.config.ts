import { defineConfig } from "vite";

// Static build into dist/; `vite preview` (scripts/web.sh serve) serves it on 8090.
export default defineConfig({
  base: "./",
  build: { target: "es2022", outDir: "dist", chunkSizeWarningLimit: 2000 },
  preview: { host: "127.0.0.1", port: 8090, strictPort: true },
  server: { host: "127.0.0.1", port: 5173 },
});
