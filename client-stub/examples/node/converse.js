#!/usr/bin/env node
// A live session over llm-router's Converse stream, with a tool the client runs itself.
//
//   node converse.js <host:port> [model] [question]
//
// It starts a session with a `get_weather` tool, sends the question as a user turn, prints text deltas as they
// arrive, answers every tool call the model makes (the "weather" is made up here), and closes the session when the
// turn completes. Each event is also printed as one JSON line on stderr, for tests and curious readers.
'use strict';

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_DIR = path.resolve(__dirname, '../../../proto');
const LOADER_OPTIONS = { keepCase: false, longs: String, enums: String, defaults: false, oneofs: true,
  includeDirs: [PROTO_DIR] };

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city.',
  parameters: { fields: {
    type: { stringValue: 'object' },
    properties: { structValue: { fields: { city: { structValue: { fields: { type: { stringValue: 'string' } } } } } } },
    required: { listValue: { values: [{ stringValue: 'city' }] } },
  } },
};

// The tool, run on the client: the router only relays the model's request and our answer.
function getWeather(argumentsJson) {
  const { city } = JSON.parse(argumentsJson || '{}');
  return `${city || 'Somewhere'}: 18C and sunny`;
}

function main() {
  const [target, model = 'openai/gpt-4o-mini', question = 'What is the weather in Paris?'] = process.argv.slice(2);
  if (!target) {
    console.error('usage: node converse.js <host:port> [model] [question]');
    process.exit(2);
  }
  const api = grpc.loadPackageDefinition(protoLoader.loadSync('llmrouter/v1/chat_service.proto', LOADER_OPTIONS));
  const client = new api.llmrouter.v1.ChatService(target, grpc.credentials.createInsecure());
  const session = client.converse();

  session.on('data', (event) => {
    console.error(JSON.stringify(event));
    switch (event.event) {
      case 'sessionStarted':
        session.write({ user: { role: 'ROLE_USER', parts: [{ text: question }] } });
        break;
      case 'textDelta':
        process.stdout.write(event.textDelta.text);
        break;
      case 'toolCalls':
        session.write({ toolResults: { results: event.toolCalls.toolCalls.map((call) => ({
          role: 'ROLE_TOOL', toolCallId: call.id, parts: [{ text: getWeather(call.argumentsJson) }],
        })) } });
        break;
      case 'turnCompleted':
        process.stdout.write('\n');
        session.end(); // half-close: the session ends cleanly
        break;
      case 'turnError':
        console.error(`TURN ERROR ${event.turnError.code} ${event.turnError.message}`);
        session.end();
        process.exitCode = 1;
        break;
      default:
        break;
    }
  });
  session.on('error', (error) => {
    console.error(`ERROR ${grpc.status[error.code]} ${error.details}`);
    process.exitCode = 1;
  });
  session.on('end', () => client.close());
  session.write({ start: { model, systemPrompt: 'You answer weather questions.', tools: [WEATHER_TOOL] } });
}

main();
