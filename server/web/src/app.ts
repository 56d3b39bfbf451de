// The live chat page: a ChatService.Converse session over the admin listener's WebSocket (/converse), one
// ConverseRequest or ConverseEvent per frame in proto3 JSON. The router keeps the history; the page sends each new
// question, answers the demo tool the model may call, interrupts a long answer (Stop), and after a dropped
// connection or a reload resumes the session by its id. Answers are rendered as Markdown.
import { create, fromJsonString, type MessageInitShape, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { Role, type ToolCall, type Usage } from "./gen/llmrouter/v1/chat_pb";
import { type ConverseEvent, ConverseEventSchema, ConverseRequestSchema } from "./gen/llmrouter/v1/converse_pb";
import { ModelService } from "./gen/llmrouter/v1/model_service_pb";
import { renderMarkdown } from "./markdown";
import { answerWeather, WEATHER_TOOL } from "./tool";

type RequestInit = MessageInitShape<typeof ConverseRequestSchema>;

// ListModels over gRPC-Web on the page's own origin, which hands it to the router's gRPC server.
const models = createClient(ModelService, createGrpcWebTransport({ baseUrl: window.location.origin }));

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const conversation = element<HTMLElement>("conversation");
const composer = element<HTMLFormElement>("composer");
const prompt = element<HTMLTextAreaElement>("prompt");
const model = element<HTMLInputElement>("model");
const scope = element<HTMLInputElement>("scope");
const send = element<HTMLButtonElement>("send");
const stop = element<HTMLButtonElement>("stop");
const status = element<HTMLElement>("status");

/** What the page shows, kept in sessionStorage with the session id so that a reload shows it again. */
type Entry =
  | { kind: "user"; text: string }
  | { kind: "assistant"; text: string; state: string; meta: string[] }
  | { kind: "tool"; calls: { id: string; name: string; argumentsJson: string; answer: string }[]; answered: boolean };

const SESSION_KEY = "llmrouter.live.session";
const TRANSCRIPT_KEY = "llmrouter.live.transcript";
// WebSocket close codes after which resuming cannot help: the router refused what the page sent.
const REFUSED = new Set([1003, 1007, 1008, 1009]);

let sessionId = sessionStorage.getItem(SESSION_KEY) ?? undefined;
let transcript: Entry[] = JSON.parse(sessionStorage.getItem(TRANSCRIPT_KEY) ?? "[]");
let socket: WebSocket | undefined;
let opened: Promise<WebSocket> | undefined;
let answer: AnswerView | undefined;
let turnRunning = false;
let reconnectDelay = 250;

function save() {
  if (sessionId) {
    sessionStorage.setItem(SESSION_KEY, sessionId);
  }
  sessionStorage.setItem(TRANSCRIPT_KEY, JSON.stringify(transcript));
}

/** One answer on screen: its Markdown text grows as deltas arrive; the meta line fills in when the turn completes. */
class AnswerView {
  readonly root = document.createElement("article");
  private readonly reasoning = document.createElement("p");
  private readonly text = document.createElement("div");
  private readonly meta = document.createElement("footer");

  constructor(readonly entry: Extract<Entry, { kind: "assistant" }>) {
    this.root.className = "turn assistant";
    this.reasoning.className = "reasoning";
    this.reasoning.hidden = true;
    this.text.className = "text";
    this.meta.className = "meta";
    this.root.append(this.reasoning, this.text, this.meta);
    this.show();
  }

  appendText(text: string) {
    this.entry.text += text;
    this.show();
  }

  appendReasoning(text: string) {
    this.reasoning.hidden = false;
    this.reasoning.textContent += text;
  }

  ended(state: "done" | "failed" | "stopped", text?: string, usage?: Usage) {
    this.entry.state = state;
    if (text !== undefined) {
      this.entry.text = text;
    }
    // An answer stopped before the model reported usage has no counts to show.
    if (usage && (usage.inputTokens !== undefined || usage.outputTokens !== undefined)) {
      // costUsd stays unset when the router has no price for the model.
      this.entry.meta = [model.value.trim(), `${usage.inputTokens ?? "?"} in · ${usage.outputTokens ?? "?"} out`,
        usage.costUsd === undefined ? "cost n/a" : `$${usage.costUsd.toFixed(6)}`];
    }
    if (state === "stopped") {
      this.entry.meta = [...(this.entry.meta.length ? this.entry.meta : [model.value.trim()]), "interrupted"];
    }
    this.show();
    save();
  }

  private show() {
    this.root.dataset.state = this.entry.state;
    // A failure's message is plain text; an answer is Markdown.
    this.text.replaceChildren(...(this.entry.state === "failed" ? [this.entry.text] : renderMarkdown(this.entry.text)));
    this.meta.replaceChildren(...this.entry.meta.map((item) => Object.assign(document.createElement("span"),
      { textContent: item, className: item === "interrupted" ? "interrupted" : "" })));
    this.root.scrollIntoView({ block: "end" });
  }
}

function showQuestion(text: string) {
  const turn = document.createElement("article");
  turn.className = "turn user";
  turn.append(Object.assign(document.createElement("p"), { className: "text", textContent: text }));
  append(turn);
}

/** The model's tool calls, each with the page's answer, editable until it is sent. */
function showToolCalls(entry: Extract<Entry, { kind: "tool" }>) {
  const card = document.createElement("article");
  card.className = "turn tool";
  const fields = entry.calls.map((call) => {
    const heading = document.createElement("p");
    heading.className = "call";
    heading.append("The model calls ", Object.assign(document.createElement("code"),
      { textContent: `${call.name}(${call.argumentsJson})` }), ", answered by this page:");
    const field = Object.assign(document.createElement("textarea"), { className: "tool-answer", rows: 2,
      value: call.answer, disabled: entry.answered });
    card.append(heading, field);
    return field;
  });
  const button = Object.assign(document.createElement("button"), { type: "button", className: "answer-tool",
    textContent: "Send the answer", hidden: entry.answered });
  button.addEventListener("click", () => {
    entry.calls.forEach((call, n) => (call.answer = fields[n].value));
    entry.answered = true;
    fields.forEach((field) => (field.disabled = true));
    button.hidden = true;
    save();
    startAnswer();
    void sendRequest({ request: { case: "toolResults", value: { results: entry.calls.map((call) => ({
      role: Role.TOOL, toolCallId: call.id, parts: [{ kind: { case: "text", value: call.answer } }] })) } } });
  });
  card.append(button);
  append(card);
}

function append(node: HTMLElement) {
  element("empty")?.remove();
  conversation.append(node);
  node.scrollIntoView({ block: "end" });
}

function startAnswer() {
  const entry: Extract<Entry, { kind: "assistant" }> = { kind: "assistant", text: "", state: "streaming", meta: [] };
  transcript.push(entry);
  answer = new AnswerView(entry);
  append(answer.root);
  setRunning(true);
}

/** The WebSocket's address: the page's own `x-...` query parameters (x-cassette-pace...) and the scope go along. */
function converseUrl(): string {
  const url = new URL("/converse", window.location.href);
  url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
  new URLSearchParams(window.location.search).forEach((value, name) => {
    if (name.toLowerCase().startsWith("x-")) {
      url.searchParams.append(name, value);
    }
  });
  if (scope.value.trim()) {
    url.searchParams.set("x-cassette-scope", scope.value.trim());
  }
  return url.href;
}

/** The open socket of the session: a new session's, or the stored one's, resumed. */
function session(): Promise<WebSocket> {
  opened ??= new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(converseUrl());
    socket = ws;
    ws.onopen = () => ws.send(toJsonString(ConverseRequestSchema, create(ConverseRequestSchema, sessionId
      ? { request: { case: "start", value: { resumeSessionId: sessionId } } }
      : { request: { case: "start", value: { model: model.value.trim(), tools: [WEATHER_TOOL] } } })));
    ws.onmessage = (message) => {
      const event = fromJsonString(ConverseEventSchema, String(message.data), { ignoreUnknownFields: true });
      if (event.event.case === "sessionStarted") {
        resolve(ws);
      }
      onEvent(event);
    };
    ws.onclose = (closed) => {
      reject(new Error(closed.reason || `the connection closed (${closed.code})`));
      onClose(ws, closed);
    };
  });
  return opened;
}

async function sendRequest(request: RequestInit) {
  try {
    const ws = await session();
    ws.send(toJsonString(ConverseRequestSchema, create(ConverseRequestSchema, request)));
  } catch (failure) {
    answer?.ended("failed", String(failure instanceof Error ? failure.message : failure));
    setRunning(false);
  }
}

function onEvent({ event }: ConverseEvent) {
  switch (event.case) {
    case "sessionStarted":
      sessionId = event.value.sessionId;
      reconnectDelay = 250;
      save();
      status.textContent = `Session ${sessionId}${event.value.resumed ? " (resumed)" : ""} on ${window.location.host}.`;
      break;
    case "textDelta":
      answer?.appendText(event.value.text);
      break;
    case "reasoningDelta":
      answer?.appendReasoning(event.value.text);
      break;
    case "toolCalls": {
      // The text so far (often none) stays; the rest of the turn comes after the tool's answer.
      if (answer && !answer.entry.text) {
        answer.root.remove();
        transcript = transcript.filter((entry) => entry !== answer?.entry);
      } else {
        answer?.ended("done");
      }
      answer = undefined;
      const entry: Extract<Entry, { kind: "tool" }> = { kind: "tool", answered: false,
        calls: event.value.toolCalls.map((call: ToolCall) => ({ id: call.id, name: call.name,
          argumentsJson: call.argumentsJson, answer: call.name === WEATHER_TOOL.name
            ? answerWeather(call.argumentsJson) : JSON.stringify({ error: `this page has no tool ${call.name}` }) })) };
      transcript.push(entry);
      save();
      showToolCalls(entry);
      break;
    }
    case "turnCompleted": {
      const text = event.value.message?.parts.map((part) => part.kind.case === "text" ? part.kind.value : "")
        .join("");
      answer?.ended(event.value.interrupted ? "stopped" : "done", text, event.value.usage);
      answer = undefined;
      setRunning(false);
      break;
    }
    case "turnError":
      answer?.ended("failed", `${Code[event.value.code] ?? event.value.code}: ${event.value.message}`);
      answer = undefined;
      setRunning(false);
      break;
  }
}

function onClose(ws: WebSocket, closed: CloseEvent) {
  if (socket !== ws) {
    return; // a socket the page let go of (New chat)
  }
  socket = undefined;
  opened = undefined;
  // A running model call is stopped when the connection drops; the router keeps its partial answer.
  answer?.ended("stopped");
  answer = undefined;
  setRunning(false);
  if (closed.code === 1000) {
    return;
  }
  if (REFUSED.has(closed.code)) {
    status.textContent = `The router closed the session's connection: ${closed.reason}`;
    if (closed.reason.startsWith("NOT_FOUND")) {
      forgetSession(); // ended or expired: the next question starts a new one
    }
    return;
  }
  if (sessionId) {
    status.textContent = `Connection lost (${closed.code}); resuming session ${sessionId}...`;
    setTimeout(() => void session().catch(() => undefined), reconnectDelay);
    reconnectDelay = Math.min(reconnectDelay * 2, 8000);
  }
}

function forgetSession() {
  sessionId = undefined;
  sessionStorage.removeItem(SESSION_KEY);
}

function ask(question: string) {
  transcript.push({ kind: "user", text: question });
  showQuestion(question);
  startAnswer();
  save();
  void sendRequest({ request: { case: "user", value: { role: Role.USER,
    parts: [{ kind: { case: "text", value: question } }] } } });
}

function setRunning(isRunning: boolean) {
  turnRunning = isRunning;
  send.hidden = isRunning;
  stop.hidden = !isRunning;
  prompt.disabled = isRunning;
  if (!isRunning) {
    prompt.focus();
  }
}

async function listModels() {
  try {
    const { models: list } = await models.listModels({});
    element("models").replaceChildren(...list.map((m) => Object.assign(document.createElement("option"),
      { value: m.name, label: m.strategy ? `alias: ${m.strategy}` : m.providerType })));
    if (!sessionId) {
      status.textContent = `Connected to ${window.location.host}: ${list.length} models configured.`;
    }
  } catch (failure) {
    status.textContent = `Cannot list models: ${ConnectError.from(failure).rawMessage}`;
  }
}

/** Shows the stored conversation again after a reload, and resumes its session. */
function restore() {
  for (const entry of transcript) {
    if (entry.kind === "user") {
      showQuestion(entry.text);
    } else if (entry.kind === "tool") {
      showToolCalls(entry);
    } else {
      if (entry.state === "streaming") {
        entry.state = "stopped"; // the reload dropped the connection, which stopped the model call
      }
      append(new AnswerView(entry).root);
    }
  }
  if (sessionId) {
    status.textContent = `Resuming session ${sessionId}...`;
    void session().catch(() => undefined);
  }
}

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const question = prompt.value.trim();
  if (question && !turnRunning) {
    prompt.value = "";
    ask(question);
  }
});
prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    composer.requestSubmit();
  }
});
stop.addEventListener("click", () => void sendRequest({ request: { case: "interrupt", value: {} } }));
element("new-chat").addEventListener("click", () => {
  // Closing with 1000 ends the session on the router.
  const ws = socket;
  socket = undefined;
  opened = undefined;
  ws?.close(1000, "new chat");
  forgetSession();
  transcript = [];
  answer = undefined;
  save();
  setRunning(false);
  conversation.replaceChildren();
  status.textContent = "";
});

restore();
void listModels();
prompt.focus();
