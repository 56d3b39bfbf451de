// A project's test suite in miniature, run by `llm-router test -- node wrapped-suite.mjs ...` (TestWrapperTest): it
// finds the router only through the environment the wrapper sets, LLMROUTER_TARGET for gRPC (@grpc/grpc-js, the
// .proto files loaded at run time) and OPENAI_BASE_URL for the `openai` SDK, and exits 1 when an answer is not the
// expected one, as a failed test would.
//
//   node wrapped-suite.mjs grpc   QUESTION EXPECTED   StreamChat over gRPC, the streamed text must be EXPECTED
//   node wrapped-suite.mjs openai QUESTION EXPECTED   the openai SDK's chat.completions.create, the same check
//   node wrapped-suite.mjs miss   QUESTION            the openai SDK gets the router's replay miss, and passes
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import OpenAI from 'openai';

const MODEL = 'openai/gpt-4o-mini';
const PROTO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../proto');

async function grpcAnswer(question) {
  const api = grpc.loadPackageDefinition(protoLoader.loadSync('llmrouter/v1/chat_service.proto',
    { includeDirs: [PROTO_DIR], enums: String, longs: String, oneofs: true }));
  const chat = new api.llmrouter.v1.ChatService(process.env.LLMROUTER_TARGET, grpc.credentials.createInsecure());
  const stream = chat.StreamChat({ model: MODEL, messages: [{ role: 'ROLE_USER', parts: [{ text: question }] }] });
  let text = '';
  for await (const event of stream) {
    text += event.textDelta?.text ?? '';
  }
  chat.close();
  return text;
}

async function openAiAnswer(question) {
  // The SDK reads OPENAI_BASE_URL (and OPENAI_API_KEY) from the environment by itself.
  const openai = new OpenAI({ maxRetries: 0 });
  const completion = await openai.chat.completions.create({ model: MODEL,
    messages: [{ role: 'user', content: question }] });
  return completion.choices[0].message.content;
}

const [check, question, expected] = process.argv.slice(2);
switch (check) {
  case 'grpc':
    assert.equal(await grpcAnswer(question), expected);
    break;
  case 'openai':
    assert.equal(await openAiAnswer(question), expected);
    break;
  case 'miss':
    await assert.rejects(openAiAnswer(question), (e) => e.status === 400 && e.code === 'cassette_miss');
    break;
  default:
    console.error(`unknown check ${check}: grpc, openai or miss`);
    process.exit(2);
}
console.log(`${check}: passed`);
