// Scenarios of the `@anthropic-ai/sdk` Messages API against the router (base URL http://HOST:PORT).
import Anthropic from '@anthropic-ai/sdk';

const client = (baseUrl, headers = {}) => new Anthropic({ apiKey: 'sk-ant-caller-key-never-forwarded',
  baseURL: baseUrl, maxRetries: 0, defaultHeaders: headers });

const ask = (prompt) => [{ role: 'user', content: prompt }];

export async function text(baseUrl, { model, prompt, headers }) {
  return client(baseUrl, headers).messages.create({ model, max_tokens: 1024, messages: ask(prompt) });
}

// `messages.stream()`, the SDK's recommended way: its text and tool-input events, and the message it assembles.
export async function stream(baseUrl, { model, prompt, headers, tools }) {
  const stream = client(baseUrl, headers).messages.stream({ model, max_tokens: 1024, messages: ask(prompt), tools });
  const texts = [];
  const inputJson = [];
  stream.on('text', (delta) => texts.push(delta));
  stream.on('inputJson', (fragment) => inputJson.push(fragment));
  const message = await stream.finalMessage();
  return { texts, inputJson, message };
}

// `stream: true`: the raw events as the SDK parsed them.
export async function rawStream(baseUrl, { model, prompt, headers }) {
  const stream = await client(baseUrl, headers).messages.create({ model, max_tokens: 1024, messages: ask(prompt),
    stream: true });
  const events = [];
  for await (const event of stream) {
    events.push(event);
  }
  return events;
}

export async function images(baseUrl, { model, pngBase64, url }) {
  return client(baseUrl).messages.create({ model, max_tokens: 1024, messages: [{ role: 'user', content: [
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: pngBase64 } },
    { type: 'image', source: { type: 'url', url } },
    { type: 'text', text: 'What do the two pictures show?' }] }] });
}

export async function thinking(baseUrl, { model, prompt, budget, headers }) {
  const stream = client(baseUrl, headers).messages.stream({ model, max_tokens: budget + 1024,
    thinking: { type: 'enabled', budget_tokens: budget }, messages: ask(prompt) });
  const thoughts = [];
  let signature = null;
  stream.on('thinking', (delta) => thoughts.push(delta));
  stream.on('signature', (whole) => { signature = whole; });
  const message = await stream.finalMessage();
  return { thoughts, signature, message };
}

// A system prompt sent as a message, which the Messages API refuses (it has a top-level `system`).
export async function systemAsMessage(baseUrl, { model }) {
  return client(baseUrl).messages.create({ model, max_tokens: 1024,
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }] });
}

// Aborts the stream at its first delta, then stays alive until `releaseUrl` answers: the test looks at the upstream
// meanwhile, while this process (whose end would close its connections anyway) still runs.
export async function abortAtFirstDelta(baseUrl, { model, prompt, releaseUrl }) {
  const controller = new AbortController();
  const stream = client(baseUrl).messages.stream({ model, max_tokens: 1024, messages: ask(prompt) },
    { signal: controller.signal });
  const seen = [];
  try {
    for await (const event of stream) {
      if (!controller.signal.aborted) { // events already received may still come out after the abort
        seen.push(event.type);
      }
      if (event.type === 'content_block_delta') {
        controller.abort();
      }
    }
  } catch (e) {
    seen.push(e.constructor.name);
  }
  seen.push(stream.aborted ? 'aborted' : 'not aborted');
  await fetch(releaseUrl);
  return seen;
}
