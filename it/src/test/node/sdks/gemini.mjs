// Scenarios of `@google/genai` against the router: its base URL is the router's (http://HOST:PORT), nothing else.
import { GoogleGenAI, Type } from '@google/genai';

const client = (baseUrl, headers = {}) => new GoogleGenAI({ apiKey: 'AIza-caller-key-never-forwarded',
  httpOptions: { baseUrl, headers } });

// What a caller reads of a response: its fields and the SDK's getters. The HTTP headers are left out: they carry the
// call's own id (x-call-id), which differs from call to call by design.
function view(response) {
  const { sdkHttpResponse, ...fields } = response;
  return { ...fields, text: response.text, functionCalls: response.functionCalls };
}

// A whole answer.
export async function generate(baseUrl, { model, contents, config, headers }) {
  return view(await client(baseUrl, headers).models.generateContent({ model, contents, config }));
}

// The chunks of a stream, as the SDK yields them.
export async function stream(baseUrl, { model, contents, config, headers }) {
  const chunks = [];
  for await (const chunk of await client(baseUrl, headers).models.generateContentStream({ model, contents, config })) {
    chunks.push(view(chunk));
  }
  return chunks;
}

// Structured output with the SDK's own schema types (Type.OBJECT...), parsed as a caller would.
export async function structured(baseUrl, { model, prompt }) {
  const response = await client(baseUrl).models.generateContent({ model, contents: prompt, config: {
    responseMimeType: 'application/json',
    responseSchema: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ['city'] } } });
  return JSON.parse(response.text);
}

// A chat whose first turn streams function calls; their results go back by id, and the SDK sends its own history
// (one content per streamed chunk) with them.
export async function functionCallingChat(baseUrl, { model, prompt, tools, results }) {
  const chat = client(baseUrl).chats.create({ model, config: { tools } });
  const calls = [];
  for await (const chunk of await chat.sendMessageStream({ message: prompt })) {
    calls.push(...(chunk.functionCalls ?? []));
  }
  const answer = await chat.sendMessage({ message: calls.map((call) => ({
    functionResponse: { id: call.id, name: call.name, response: { result: results[call.args.city] } } })) });
  return { calls, text: answer.text, history: chat.getHistory() };
}

// Reads the first chunk of a stream, then aborts the request as a UI would.
export async function abortAfterFirstChunk(baseUrl, { model, prompt }) {
  const controller = new AbortController();
  const chunks = await client(baseUrl).models.generateContentStream({ model, contents: prompt,
    config: { abortSignal: controller.signal } });
  for await (const chunk of chunks) {
    controller.abort();
    return { first: view(chunk) };
  }
  return { first: null };
}

// The README's TypeScript snippet, as written but for the router's address.
export async function readme(baseUrl) {
  const ai = new GoogleGenAI({ apiKey: 'unused', httpOptions: { baseUrl } });
  const response = await ai.models.generateContent({ model: 'gemini/gemini-2.5-flash',
    contents: 'What is the capital of France?' });
  return response.text;
}
