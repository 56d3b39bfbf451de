// Scenarios of the `openai` SDK's embeddings against the router (base URL http://HOST:PORT/v1).
import OpenAI from 'openai';

const client = (baseUrl, headers = {}) => new OpenAI({ apiKey: 'sk-caller-key-never-forwarded',
  baseURL: `${baseUrl}/v1`, maxRetries: 0, defaultHeaders: headers });

// `embeddings.create` as an application calls it; `request` is merged into {model, input}. Without an
// `encoding_format` the SDK asks for base64 and decodes it to numbers itself.
export async function create(baseUrl, { model, input, headers, request = {} }) {
  return client(baseUrl, headers).embeddings.create({ model, input, ...request });
}
