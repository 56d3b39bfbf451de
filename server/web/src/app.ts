// The live chat page: sends the conversation to ChatService.StreamChat over gRPC-Web and shows the answer as its
// events arrive, with the model, the token usage, the cost and where the answer came from.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import {
  CassetteOutcome,
  type ChatStart,
  type MessageSchema,
  Role,
  type Usage,
} from "./gen/llmrouter/v1/chat_pb";
import { ChatService } from "./gen/llmrouter/v1/chat_service_pb";
import { ModelService } from "./gen/llmrouter/v1/model_service_pb";

type MessageInit = MessageInitShape<typeof MessageSchema>;

// The page's own origin: the admin listener that serves this page hands gRPC-Web calls to the router's gRPC
// server, so the browser needs no cross-origin access to the gRPC port.
const transport = createGrpcWebTransport({ baseUrl: window.location.origin });
const chat = createClient(ChatService, transport);
const models = createClient(ModelService, transport);

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const conversation = element<HTMLElement>("conversation");
const composer = element<HTMLFormElement>("composer");
const prompt = element<HTMLTextAreaElement>("prompt");
const model = element<HTMLInputElement>("model");
const scope = element<HTMLInputElement>("scope");
const send = element<HTMLButtonElement>("send");
const stop = element<HTMLButtonElement>("stop");
const status = element<HTMLElement>("status");

// The conversation so far, as the API wants it: every user message and every complete answer.
let history: MessageInit[] = [];
let running: AbortController | undefined;

/** One answer on screen: its text grows as deltas arrive, its meta line fills in from start, usage and done. */
class AnswerView {
  readonly root = document.createElement("article");
  private readonly reasoning = document.createElement("p");
  private readonly text = document.createElement("p");
  private readonly origin = document.createElement("span");
  private readonly model = document.createElement("span");
  private readonly usage = document.createElement("span");
  private readonly cost = document.createElement("span");

  constructor() {
    this.root.className = "turn assistant";
    this.root.dataset.state = "streaming";
    this.reasoning.className = "reasoning";
    this.reasoning.hidden = true;
    this.text.className = "text";
    this.origin.className = "origin";
    this.model.className = "model";
    this.usage.className = "usage";
    this.cost.className = "cost";
    const meta = document.createElement("footer");
    meta.className = "meta";
    meta.append(this.origin, this.model, this.usage, this.cost);
    this.root.append(this.reasoning, this.text, meta);
  }

  started(start: ChatStart) {
    this.model.textContent = `${start.model} · ${start.provider}`;
    const origin = start.origin;
    const replayed = origin?.cassette === CassetteOutcome.HIT;
    this.origin.textContent = replayed ? "replayed from cassette"
      : origin?.cassette === CassetteOutcome.RECORDED ? "live, recorded" : "live";
    this.origin.classList.add(replayed ? "replayed" : "live");
    if (origin?.cassetteKey) {
      this.origin.title = `cassette ${origin.cassetteScope}/${origin.cassetteKey.slice(0, 16)}.json`;
    }
  }

  appendText(text: string) {
    this.text.textContent += text;
  }

  appendReasoning(text: string) {
    this.reasoning.hidden = false;
    this.reasoning.textContent += text;
  }

  counted(usage: Usage) {
    this.usage.textContent = `${usage.inputTokens ?? "?"} in · ${usage.outputTokens ?? "?"} out`;
    // costUsd stays unset when the router has no price for the model.
    this.cost.textContent = usage.costUsd === undefined ? "cost n/a" : `$${usage.costUsd.toFixed(6)}`;
  }

  ended(state: "done" | "failed" | "stopped", message?: string) {
    this.root.dataset.state = state;
    if (message) {
      this.text.textContent = message;
    }
  }
}

function textMessage(role: Role, text: string): MessageInit {
  return { role, parts: [{ kind: { case: "text", value: text } }] };
}

function showQuestion(text: string) {
  const turn = document.createElement("article");
  turn.className = "turn user";
  const paragraph = document.createElement("p");
  paragraph.className = "text";
  paragraph.textContent = text;
  turn.append(paragraph);
  append(turn);
}

function append(node: HTMLElement) {
  element("empty")?.remove();
  conversation.append(node);
  node.scrollIntoView({ block: "end" });
}

async function ask(question: string) {
  showQuestion(question);
  const answer = new AnswerView();
  append(answer.root);
  const asked = [...history, textMessage(Role.USER, question)];
  const headers: Record<string, string> = scope.value.trim() ? { "x-cassette-scope": scope.value.trim() } : {};
  running = new AbortController();
  setRunning(true);
  try {
    for await (const { event } of chat.streamChat({ model: model.value.trim(), messages: asked },
      { headers, signal: running.signal })) {
      switch (event.case) {
        case "start":
          answer.started(event.value);
          break;
        case "textDelta":
        case "refusalDelta":
          answer.appendText(event.value.text);
          answer.root.scrollIntoView({ block: "end" });
          break;
        case "reasoningDelta":
          answer.appendReasoning(event.value.text);
          break;
        case "usage":
          answer.counted(event.value);
          break;
        case "done": {
          const response = event.value.response;
          if (response?.usage) {
            answer.counted(response.usage);
          }
          // Only a complete exchange joins the history that the next question is sent with.
          history = [...asked, response?.message ?? textMessage(Role.ASSISTANT, "")];
          answer.ended("done");
          break;
        }
      }
    }
  } catch (failure) {
    const error = ConnectError.from(failure);
    if (error.code === Code.Canceled) {
      answer.ended("stopped");
    } else {
      answer.ended("failed", `${Code[error.code]}: ${error.rawMessage}`);
    }
  } finally {
    running = undefined;
    setRunning(false);
  }
}

function setRunning(isRunning: boolean) {
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
    status.textContent = `Connected to ${window.location.host}: ${list.length} models configured.`;
  } catch (failure) {
    status.textContent = `Cannot list models: ${ConnectError.from(failure).rawMessage}`;
  }
}

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const question = prompt.value.trim();
  if (question && !running) {
    prompt.value = "";
    void ask(question);
  }
});
prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    composer.requestSubmit();
  }
});
stop.addEventListener("click", () => running?.abort());
element("new-chat").addEventListener("click", () => {
  running?.abort();
  history = [];
  conversation.replaceChildren();
  prompt.focus();
});

void listModels();
prompt.focus();
