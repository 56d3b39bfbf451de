// Scenarios of the `openai` SDK's Chat Completions against the router (base URL http://HOST:PORT/v1).
import OpenAI from 'openai';

const client = (baseUrl, headers = {}) => new OpenAI({ apiKey: 'sk-caller-key-never-forwarded', baseURL: `${baseUrl}/v1`,
  maxRetries: 0, defaultHeaders: headers });

export async function text(baseUrl, { model, prompt, headers }) {
  const completion = await client(baseUrl, headers).chat.completions.create({ model,
    messages: [{ role: 'user', content: prompt }] });
  return completion;
}

export async function streamText(baseUrl, { model, prompt, headers, includeUsage }) {
  const stream = await client(baseUrl, headers).chat.completions.create({ model, stream: true,
    stream_options: includeUsage ? { include_usage: true } : undefined, messages: [{ role: 'user', content: prompt }] });
  const chunks = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
  }
  return chunks;
}
