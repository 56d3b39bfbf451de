// Drives the live chat page in headless Chromium (Debian's /usr/bin/chromium, through playwright-core): asks one
// question, waits for the streamed answer to end, takes a screenshot, and prints what the page shows as JSON.
// Run by LiveChatPageTest in the it module.
//
//   node test/drive-page.mjs <page url> <question> <screenshot.png>
import { chromium } from "playwright-core";

const [url, question, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 620 } });
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  // Every text the answer shows, in order, to see the deltas land one by one.
  await page.addInitScript(() => {
    window.answerTexts = [];
    new MutationObserver((records) => records.forEach((record) => {
      if (record.target instanceof Element && record.target.matches(".turn.assistant .text")) {
        window.answerTexts.push(record.target.textContent);
      }
    })).observe(document, { subtree: true, childList: true });
  });
  await page.goto(url);
  await page.waitForSelector("#models option", { state: "attached" }); // ListModels answered over gRPC-Web
  await page.fill("#prompt", question);
  await page.press("#prompt", "Enter");
  const answer = page.locator(".turn.assistant").last();
  await page.waitForSelector(".turn.assistant:not([data-state=streaming])");
  await page.screenshot({ path: screenshot });
  const text = async (selector) => (await answer.locator(selector).textContent()) ?? "";
  console.log(JSON.stringify({
    state: await answer.getAttribute("data-state"),
    text: await text(".text"),
    origin: await text(".origin"),
    model: await text(".model"),
    usage: await text(".usage"),
    cost: await text(".cost"),
    answerTexts: await page.evaluate(() => window.answerTexts),
    models: await page.locator("#models option").evaluateAll((options) => options.map((o) => o.value)),
    status: await page.locator("#status").textContent(),
    errors,
  }));
} finally {
  await browser.close();
}
