// Drives the console in headless Chromium (Debian's /usr/bin/chromium, through playwright-core) and prints what it
// showed as JSON. Run by ConsolePageTest in the it module, against a router replaying the demo cassettes whose call
// log holds the test's calls (one of them a replay miss).
//
//   node test/drive-console.mjs <console url> <screenshot folder> <model to filter by>
//     the calls, filtered by a model and by time; that call's page; its trace; the usage chart; a cassette; the misses
import { chromium } from "playwright-core";
import path from "node:path";

const [url, screenshots, model] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});

try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
  page.setDefaultTimeout(30_000);
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  const shot = (name) => page.screenshot({ path: path.join(screenshots, name), fullPage: true });
  const texts = (selector) => page.locator(selector).allInnerTexts();
  /** Waits until the view has shown what its location asks for. */
  const settled = () => page.locator('#view[aria-busy="false"]').waitFor();
  /** Opens a view by its link in the header, and waits until it shows `selector`. */
  async function open(link, selector) {
    await page.click(`header nav a:text-is("${link}")`);
    await page.locator(selector).first().waitFor();
  }

  await page.goto(url);
  await page.locator("#calls tbody tr").first().waitFor();
  const allCalls = await texts("#calls tbody tr td:nth-child(2)");
  const statuses = await texts("#calls tbody tr td:nth-child(4)");
  await shot("console-calls.png");

  // Filter by model: the location changes, the table is read again.
  await page.fill("input[name=model]", model);
  await page.click("#filters button");
  // The form is drawn again with the filter as its value, then the filtered calls.
  await page.locator(`#filters input[name=model][value="${model}"]`).waitFor();
  await settled();
  const filtered = await texts("#calls tbody tr td:nth-child(2)");

  // A time range: nothing before 2000; a time that is none says how to write one.
  await page.fill("input[name=to]", "2000-01-01");
  await page.click("#filters button");
  await page.locator("#view .empty").waitFor();
  const beforeTheCalls = await page.locator("#view .empty").innerText();
  await page.fill("input[name=to]", "yesterday");
  await page.click("#filters button");
  await page.locator("#status", { hasText: "yesterday" }).waitFor();
  const badTime = await page.locator("#status").innerText();
  const filtersKept = await page.locator("#filters input[name=to]").getAttribute("value");
  await page.goBack();
  await page.goBack();
  await page.locator(`#filters input[name=model][value="${model}"]`).waitFor();
  await page.locator("#filters input[name=to][value='']").waitFor();
  await settled();

  // The call's page, then its trace.
  await page.click("#calls tbody tr a");
  await page.locator("dl#call").waitFor();
  const values = await texts("dl#call dd");
  const facts = Object.fromEntries((await texts("dl#call dt")).map((name, i) => [name, values[i]]));
  const messages = await texts("#messages pre");
  const answer = await page.locator("#answer").innerText();
  await shot("console-call.png");
  await page.click("#trace-link");
  await page.locator("#trace li").first().waitFor();
  const trace = await page.locator("#trace > li").evaluateAll((roots) => roots.map((root) => ({
    call: root.dataset.call, children: [...root.querySelectorAll(":scope > ul > li")].map((child) => child.dataset.call),
  })));
  await shot("console-trace.png");

  // The usage chart: calls per model, by the hour.
  await open("Usage", "#chart");
  await page.click("a:text-is('calls')");
  await page.locator("a.chosen:text-is('calls')").waitFor();
  await page.locator("#chart rect.bar").first().waitFor();
  const bars = await page.locator("#chart rect.bar").evaluateAll((rects) => rects.map((rect) => ({
    group: rect.dataset.group, height: Number(rect.getAttribute("height")), title: rect.textContent,
  })));
  const legend = await texts("#legend .legend");
  const totals = await page.locator("#totals").innerText();
  await shot("console-usage.png");

  // The cassettes: a scope, one of its cassettes.
  await open("Cassettes", "#scopes li");
  const scopes = await texts("#scopes li");
  await page.click("#scopes a:text-is('tool-call')");
  await page.locator("#scopes a.chosen:text-is('tool-call')").waitFor();
  const cassettes = await texts("#cassettes tr td:nth-child(3)");
  await page.click("#cassettes tr a");
  await page.locator("#cassette-request").waitFor();
  const request = await page.locator("#cassette-request").innerText();
  const events = await texts(".events li b");
  await shot("console-cassette.png");

  // The misses of the running router, with their diffs.
  await open("Misses", ".miss");
  const misses = await page.locator(".miss").evaluateAll((sections) => sections.map((section) => ({
    title: section.querySelector("h3").innerText,
    removed: [...section.querySelectorAll(".diff .removed")].map((line) => line.innerText),
    added: [...section.querySelectorAll(".diff .added")].map((line) => line.innerText),
    paths: [...section.querySelectorAll(".diff .path")].map((line) => line.innerText),
  })));
  await shot("console-misses.png");

  console.log(JSON.stringify({ allCalls, statuses, filtered, beforeTheCalls, badTime, filtersKept, facts, messages, answer, trace, bars, legend, totals,
    scopes, cassettes, request, events, misses, status: await page.locator("#status").innerText(), errors }));
} finally {
  await browser.close();
}
