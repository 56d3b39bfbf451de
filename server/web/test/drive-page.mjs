// Drives the live chat page in headless Chromium (Debian's /usr/bin/chromium, through playwright-core) and prints
// what the page showed as JSON. Run by LiveChatPageTest in the it module, against a router replaying the demo
// cassettes (DemoCassettesTest records the page's conversation).
//
//   node test/drive-page.mjs conversation <page url> <screenshot folder>
//     two turns (the second answered with the page's demo tool) with a dropped connection between them, a reload
//     that resumes the session, then a long answer interrupted with Stop
//   node test/drive-page.mjs miss <page url> <screenshot folder>
//     a question no cassette holds
import { chromium } from "playwright-core";
import path from "node:path";

const [scenario, url, screenshots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const TIMEOUT = 30_000;

try {
  const page = await browser.newPage({ viewport: { width: 900, height: 760 } });
  page.setDefaultTimeout(TIMEOUT);
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  const shot = (name) => page.screenshot({ path: path.join(screenshots, name) });
  const answers = page.locator(".turn.assistant");
  const answer = (n) => answers.nth(n);

  /** Types a question, and waits until the page shows the n-th answer in the given state. */
  async function ask(question, n, state) {
    await page.fill("#prompt", question);
    await page.press("#prompt", "Enter");
    await page.waitForSelector(`.turn.assistant >> nth=${n}`);
    if (state) {
      await answer(n).and(page.locator(`[data-state=${state}]`)).waitFor();
    }
  }

  /** What an answer shows: its state, its text, its Markdown as HTML, its meta line. */
  async function shown(n) {
    return {
      state: await answer(n).getAttribute("data-state"),
      text: await answer(n).locator(".text").innerText(),
      html: await answer(n).locator(".text").innerHTML(),
      meta: await answer(n).locator(".meta span").allTextContents(),
    };
  }

  // Every WebSocket of the page goes through here, to the router, so that the test can drop one.
  const sockets = [];
  await page.routeWebSocket(/\/converse/, (socket) => {
    socket.connectToServer();
    sockets.push(socket);
  });
  await page.goto(url);
  await page.waitForSelector("#models option", { state: "attached" }); // ListModels answered over gRPC-Web
  const models = await page.locator("#models option").evaluateAll((options) => options.map((o) => o.value));

  if (scenario === "miss") {
    await ask("A question nobody recorded.", 0, "failed");
    await shot("live-chat-page-miss.png");
    console.log(JSON.stringify({ answer: await shown(0), models, errors }));
  } else {
    await ask("What is the capital of France?", 0, "done");
    const first = await shown(0);
    const session = await page.locator("#status").textContent();

    // The connection drops: the page resumes the session on a new one.
    await sockets.at(-1).close({ code: 4000, reason: "the network dropped" });
    await page.locator("#status", { hasText: "(resumed)" }).waitFor();
    const reconnected = await page.locator("#status").textContent();

    // The model calls the page's tool: the page shows the call with its answer, sent with a click.
    await ask("What's the weather there?", 1);
    await page.locator(".answer-tool").waitFor();
    const toolCall = await page.locator(".turn.tool .call").innerText();
    const toolAnswer = await page.locator(".turn.tool textarea").inputValue();
    await shot("live-chat-page-tool.png");
    await page.click(".answer-tool");
    await answer(1).and(page.locator("[data-state=done]")).waitFor();
    const second = await shown(1);

    // A reload drops the WebSocket; the page shows the conversation again and resumes the session.
    await page.reload();
    await page.locator("#status", { hasText: "(resumed)" }).waitFor();
    const resumed = await page.locator("#status").textContent();
    const restored = await page.locator(".turn").count();

    // The router still holds the history: the third question's cassette is keyed on all of it.
    await ask("Tell me a long story about the sea.", 2);
    await answer(2).locator(".text p").first().waitFor(); // the first words arrived
    await page.click("#stop");
    await answer(2).and(page.locator("[data-state=stopped]")).waitFor();
    const third = await shown(2);
    await shot("live-chat-page.png");
    console.log(JSON.stringify({ first, session, reconnected, sockets: sockets.length, toolCall, toolAnswer, second, resumed, restored, third, models,
      errors }));
  }
} finally {
  await browser.close();
}
