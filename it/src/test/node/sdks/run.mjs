// Runs one scenario of a scenario file against the router and prints its result as one JSON line.
// Usage: node run.mjs <scenario file> <scenario name> <router base URL> [JSON arguments]
// A scenario is an async function (baseUrl, args) => result; a thrown SDK error is printed as
// {"error": {"class", "status", "message", ...}} so that the Java test can assert on the SDK's typed error.
const [file, name, baseUrl, args] = process.argv.slice(2);
const scenarios = await import(`./${file}`);
if (!scenarios[name]) {
  console.error(`no scenario ${name} in ${file}; it has ${Object.keys(scenarios)}`);
  process.exit(2);
}
try {
  const result = await scenarios[name](baseUrl, args ? JSON.parse(args) : {});
  console.log(JSON.stringify({ result }));
} catch (e) {
  // `type` is the SDKs' own field: Anthropic's `e.error` is the whole body, whose `type` is just "error".
  console.log(JSON.stringify({ error: { class: e?.constructor?.name, status: e?.status, message: e?.message,
    type: e?.type ?? e?.error?.type, code: e?.code, headers: e?.headers ? Object.fromEntries(e.headers) : undefined } }));
}
