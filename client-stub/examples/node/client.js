#!/usr/bin/env node
// A small llm-router client: loads the llmrouter.v1 .proto files at run time (no generated code) and calls the
// router over plain-text gRPC. See README.md beside this file.
//
//   node client.js <host:port> <command> [model] [prompt]
//
//   models [provider]        ListModels, printed as JSON
//   chat   [model] [prompt]  Chat, the ChatResponse printed as JSON
//   stream [model] [prompt]  StreamChat, each ChatEvent printed as one JSON line
//   health [service]         grpc.health.v1.Health/Check, the status printed (SERVING...)
//
// On a gRPC error it prints `ERROR <code name> <details>` to stderr and exits 1.
'use strict';

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_DIR = path.resolve(__dirname, '../../../proto');
const DEFAULT_MODEL = 'openai/gpt-4o-mini';
const DEFAULT_PROMPT = 'Say hello in one short sentence.';
const DEADLINE_MS = 120_000;

// How messages are turned into JS objects, and so how they print as JSON: camelCase field names, int64 as
// strings, enum values by name, unset fields left out, and a virtual field naming the set member of each oneof
// (for example `"event": "textDelta"` on a ChatEvent).
const LOADER_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  includeDirs: [PROTO_DIR], // google/protobuf/*.proto come with proto-loader itself
};

// The standard health service, described inline so that the example needs no .proto file of its own.
const HEALTH_DESCRIPTOR = {
  nested: { grpc: { nested: { health: { nested: { v1: { nested: {
    HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
    HealthCheckResponse: {
      fields: { status: { type: 'ServingStatus', id: 1 } },
      nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } },
    },
    Health: { methods: { Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse' } } },
  } } } } } } },
};

function loadServices() {
  const api = grpc.loadPackageDefinition(protoLoader.loadSync(
    ['llmrouter/v1/chat_service.proto', 'llmrouter/v1/model_service.proto'], LOADER_OPTIONS));
  const health = grpc.loadPackageDefinition(protoLoader.fromJSON(HEALTH_DESCRIPTOR, LOADER_OPTIONS));
  return { ChatService: api.llmrouter.v1.ChatService, ModelService: api.llmrouter.v1.ModelService,
    Health: health.grpc.health.v1.Health };
}

function chatRequest(model, prompt) {
  return {
    model: model || DEFAULT_MODEL,
    messages: [{ role: 'ROLE_USER', parts: [{ text: prompt || DEFAULT_PROMPT }] }],
  };
}

// With `oneofs: true`, every proto3 `optional` field also gets a virtual field for its hidden oneof
// (`"_inputTokens": "inputTokens"`); it says nothing the field itself does not, so it is left out of the output.
function withoutOptionalMarkers(key, value) {
  return key.startsWith('_') && value === key.slice(1) ? undefined : value;
}

function printJson(message) {
  process.stdout.write(JSON.stringify(message, withoutOptionalMarkers) + '\n');
}

function fail(error) {
  const codeName = Object.keys(grpc.status).find((name) => grpc.status[name] === error.code) || String(error.code);
  process.stderr.write(`ERROR ${codeName} ${error.details}\n`);
  process.exitCode = 1;
}

function deadline() {
  return { deadline: Date.now() + DEADLINE_MS };
}

function main(argv) {
  const [address, command, arg1, arg2] = argv;
  if (!address || !['models', 'chat', 'stream', 'health'].includes(command)) {
    process.stderr.write('usage: node client.js <host:port> models|chat|stream|health [model] [prompt]\n');
    process.exitCode = 2;
    return;
  }
  const services = loadServices();
  const credentials = grpc.credentials.createInsecure();

  if (command === 'models') {
    const client = new services.ModelService(address, credentials);
    client.listModels({ provider: arg1 || '' }, deadline(), (error, response) => {
      error ? fail(error) : printJson(response);
      client.close();
    });
  } else if (command === 'chat') {
    const client = new services.ChatService(address, credentials);
    client.chat(chatRequest(arg1, arg2), deadline(), (error, response) => {
      error ? fail(error) : printJson(response);
      client.close();
    });
  } else if (command === 'stream') {
    const client = new services.ChatService(address, credentials);
    const call = client.streamChat(chatRequest(arg1, arg2), deadline());
    call.on('data', printJson);
    call.on('error', fail); // a non-OK status
    call.on('status', () => client.close()); // the last event, OK or not
  } else {
    const client = new services.Health(address, credentials);
    client.check({ service: arg1 || '' }, deadline(), (error, response) => {
      error ? fail(error) : process.stdout.write(`${response.status || 'UNKNOWN'}\n`);
      client.close();
    });
  }
}

main(process.argv.slice(2));
