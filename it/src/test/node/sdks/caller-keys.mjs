// Scenarios of the `openai` SDK against a router that requires caller keys: the key goes as the SDK's apiKey
// (`Authorization: Bearer`), and the router's refusals come back as the SDK's typed errors.
import OpenAI from 'openai';

const client = (baseUrl, apiKey, headers = {}) => new OpenAI({ apiKey, baseURL: `${baseUrl}/v1`, maxRetries: 0,
  defaultHeaders: headers });

// A whole completion of one prompt.
export async function create(baseUrl, { apiKey, model, prompt, headers }) {
  return client(baseUrl, apiKey, headers).chat.completions.create({ model,
    messages: [{ role: 'user', content: prompt }] });
}

// The ids of the models the key may call.
export async function models(baseUrl, { apiKey }) {
  const page = await client(baseUrl, apiKey).models.list();
  return page.data.map((model) => model.id);
}
