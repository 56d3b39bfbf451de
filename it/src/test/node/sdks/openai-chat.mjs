// Scenarios of the `openai` SDK's Chat Completions against the router (base URL http://HOST:PORT/v1).
import OpenAI from 'openai';

const client = (baseUrl, headers = {}) => new OpenAI({ apiKey: 'sk-caller-key-never-forwarded',
  baseURL: `${baseUrl}/v1`, maxRetries: 0, defaultHeaders: headers });

// A whole completion; `request` is merged into {model, messages}.
export async function create(baseUrl, { model, prompt, headers, request = {} }) {
  return client(baseUrl, headers).chat.completions.create({ model,
    messages: [{ role: 'user', content: prompt }], ...request });
}

// The raw chunks of a stream, as the SDK yields them.
export async function chunks(baseUrl, { model, prompt, headers, request = {} }) {
  const stream = await client(baseUrl, headers).chat.completions.create({ model, stream: true,
    messages: [{ role: 'user', content: prompt }], ...request });
  const all = [];
  for await (const chunk of stream) {
    all.push(chunk);
  }
  return all;
}

// The SDK's own assembly of a stream (`.stream()` then `finalChatCompletion()`), tool calls included.
export async function streamed(baseUrl, { model, prompt, headers, request = {} }) {
  const stream = client(baseUrl, headers).chat.completions.stream({ model,
    messages: [{ role: 'user', content: prompt }], ...request });
  return stream.finalChatCompletion();
}

// Reads the first chunk of a stream, then aborts the request as a UI would.
export async function abortAfterFirstChunk(baseUrl, { model, prompt }) {
  const controller = new AbortController();
  const stream = await client(baseUrl).chat.completions.create({ model, stream: true,
    messages: [{ role: 'user', content: prompt }] }, { signal: controller.signal });
  for await (const chunk of stream) {
    controller.abort();
    return { first: chunk };
  }
  return { first: null };
}
