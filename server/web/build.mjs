// Builds the page into the folder given as the first argument (default: dist/): src/app.ts bundled into app.js,
// next to the static files of public/. The router's Maven build runs it into the server's webroot.
import { build } from "esbuild";
import { cpSync } from "node:fs";

const out = process.argv[2] ?? "dist";
cpSync("public", out, { recursive: true });
await build({
  entryPoints: ["src/app.ts"],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  outfile: `${out}/app.js`,
  logLevel: "warning",
});
