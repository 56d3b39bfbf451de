#!/usr/bin/env node
// A Converse session outlives a cancelled stream: this client starts a session, cancels its stream with
// `call.cancel()`, then resumes the session on a new stream.
//
//   node converse-cancel.js <host:port> [model]
//
// It prints one JSON line: {"sessionId": ..., "cancelledWith": <status name>, "resumed": true|false, "error": ...}
// and exits 0 when the session resumed, 1 otherwise.
'use strict';

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_DIR = path.resolve(__dirname, '../../../proto');
const LOADER_OPTIONS = { keepCase: false, longs: String, enums: String, defaults: false, oneofs: true,
  includeDirs: [PROTO_DIR] };
const DEADLINE_MS = 30_000;

// Opens a Converse stream, sends `start`, and resolves with the session id once the session has started.
function startSession(client, start, onEnd) {
  return new Promise((resolve, reject) => {
    const call = client.converse({ deadline: Date.now() + DEADLINE_MS });
    call.on('data', (event) => {
      if (event.event === 'sessionStarted') {
        resolve({ call, started: event.sessionStarted });
      }
    });
    call.on('error', (error) => {
      onEnd(error);
      reject(error);
    });
    call.on('end', () => onEnd(null));
    call.write({ start });
  });
}

async function main() {
  const [target, model = 'openai/gpt-4o-mini'] = process.argv.slice(2);
  if (!target) {
    console.error('usage: node converse-cancel.js <host:port> [model]');
    process.exit(2);
  }
  const api = grpc.loadPackageDefinition(protoLoader.loadSync('llmrouter/v1/chat_service.proto', LOADER_OPTIONS));
  const client = new api.llmrouter.v1.ChatService(target, grpc.credentials.createInsecure());
  const result = {};
  let cancelled;
  const cancelledStatus = new Promise((resolve) => { cancelled = resolve; });
  const first = await startSession(client, { model }, (error) => cancelled(error ? grpc.status[error.code] : 'OK'));
  result.sessionId = first.started.sessionId;
  first.call.cancel();
  result.cancelledWith = await cancelledStatus;
  try {
    const second = await startSession(client, { resumeSessionId: result.sessionId }, () => {});
    result.resumed = second.started.resumed;
    second.call.cancel();
  } catch (error) {
    result.resumed = false;
    result.error = `${grpc.status[error.code]} ${error.details}`;
  }
  console.log(JSON.stringify(result));
  client.close();
  process.exitCode = result.resumed ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
