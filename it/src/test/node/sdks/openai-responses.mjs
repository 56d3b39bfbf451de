// Scenarios of the `openai` SDK's Responses API against the router (base URL http://HOST:PORT/v1). Each takes the
// request body the Java test builds, so that the test says what is asked and what must come back.
import OpenAI from 'openai';

const client = (baseUrl, headers = {}) => new OpenAI({ apiKey: 'sk-caller-key-never-forwarded', baseURL: `${baseUrl}/v1`,
  maxRetries: 0, defaultHeaders: headers });

// responses.create: the Response object with the SDK's own output_text.
export async function create(baseUrl, { body, headers }) {
  return await client(baseUrl, headers).responses.create(body);
}

// responses.stream: every event as the SDK hands it over (its strict accumulator checks each one), and the final
// Response it assembled.
export async function stream(baseUrl, { body, headers }) {
  const stream = client(baseUrl, headers).responses.stream(body);
  const events = [];
  for await (const event of stream) {
    events.push(event);
  }
  return { events, final: await stream.finalResponse() };
}

// responses.parse: the structured output parsed by the SDK from text.format's JSON schema.
export async function parse(baseUrl, { body, headers }) {
  const response = await client(baseUrl, headers).responses.parse(body);
  return { output_parsed: response.output_parsed, output_text: response.output_text };
}

// A streamed call the caller gives up on at the first text delta, as a chat UI's stop button does.
export async function abortAtFirstDelta(baseUrl, { body, headers }) {
  const controller = new AbortController();
  const stream = await client(baseUrl, headers).responses.create({ ...body, stream: true },
    { signal: controller.signal });
  const seen = [];
  try {
    for await (const event of stream) {
      seen.push(event.type);
      if (event.type === 'response.output_text.delta') {
        controller.abort();
      }
    }
  } catch (e) {
    seen.push(e?.constructor?.name);
  }
  return { seen, aborted: controller.signal.aborted };
}

// The README's snippets, as written but for the router's address, and the stream's text kept instead of printed.
export async function readme(baseUrl) {
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'unused' });
  const capital = (await client.responses.create({ model: 'openai/gpt-4o-mini',
    input: 'What is the capital of France?' })).output_text;
  const stream = client.responses.stream({ model: 'openai/gpt-4o-mini', input: 'Write a haiku about the sea.' });
  let haiku = '';
  for await (const event of stream) {
    if (event.type === 'response.output_text.delta') haiku += event.delta;
  }
  return { capital, haiku };
}
