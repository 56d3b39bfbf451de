// Builds the pages into the folder given as the first argument (default: dist/): src/app.ts (the live chat) bundled
// into app.js and src/console.ts (the console) into console.js, next to the static files of public/. The router's Maven build runs it into the server's webroot.
import { build } from "esbuild";
import { cpSync } from "node:fs";

const out = process.argv[2] ?? "dist";
cpSync("public", out, { recursive: true });
await build({
  entryPoints: ["src/app.ts", "src/console.ts"],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  outdir: out,
  logLevel: "warning",
});
