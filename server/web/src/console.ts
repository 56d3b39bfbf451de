// The console: the call log, usage and cost charts, and the cassettes of the router, read over gRPC-Web on the
// admin listener (ObservabilityService, CassetteService). One view per location hash, so every page has a link:
//   #/calls?model=…&page=…   #/call/<id>   #/trace/<id>   #/usage?by=model&bucket=hour&metric=cost
//   #/cassettes?scope=…      #/cassette?scope=…&key=…     #/misses
import { type DescEnum, toJsonString } from "@bufbuild/protobuf";
import { type Duration, type Timestamp, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { CassetteService } from "./gen/llmrouter/v1/cassette_service_pb";
import { CallTypeSchema, type CallNode, type CallRecord, ObservabilityService, UsageBucket, UsageGrouping }
  from "./gen/llmrouter/v1/observability_service_pb";
import { CassetteOutcomeSchema, ChatEventSchema, FinishReasonSchema, type Message, RoleSchema }
  from "./gen/llmrouter/v1/chat_pb";

const transport = createGrpcWebTransport({ baseUrl: window.location.origin });
const calls = createClient(ObservabilityService, transport);
const cassettes = createClient(CassetteService, transport);

const view = document.getElementById("view") as HTMLElement;
const status = document.getElementById("status") as HTMLElement;

type Child = Node | string | undefined | null | false;

/** An element with attributes (`class`, `href`, data-…) and children; false and undefined children are left out. */
function h(tag: string, attributes: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  Object.entries(attributes).forEach(([name, value]) => element.setAttribute(name, value));
  element.append(...shown(children));
  return element;
}

/** The children to show: false, null and undefined stand for none. */
const shown = (children: Child[]) => children.filter((child): child is Node | string => child !== undefined
  && child !== null && child !== false);

/** Replaces what the view shows. */
const render = (...children: Child[]) => view.replaceChildren(...shown(children));

/** Adds to what the view shows. */
const add = (...children: Child[]) => view.append(...shown(children));

/** An SVG element: the charts are drawn by hand. */
function svg(tag: string, attributes: Record<string, string | number>, ...children: (Node | string)[]): SVGElement {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  Object.entries(attributes).forEach(([name, value]) => element.setAttribute(name, String(value)));
  element.append(...children);
  return element;
}

/** An enum value by its short name: `CASSETTE_OUTCOME_HIT` shows as `hit`; unspecified (0) as nothing. */
function named(schema: DescEnum, value: number): string {
  if (value === 0) {
    return "";
  }
  const prefix = schema.sharedPrefix ?? "";
  return (schema.value[value]?.name ?? String(value)).slice(prefix.length).toLowerCase();
}

const time = (t?: Timestamp) => (t ? timestampDate(t).toISOString().replace("T", " ").slice(0, 19) : "");
const millis = (d?: Duration) => (d ? Number(d.seconds) * 1000 + Math.round(d.nanos / 1e6) : undefined);
const ms = (d?: Duration) => (d ? `${millis(d)} ms` : "");
const usd = (cost?: number) => (cost === undefined ? "" : `$${cost.toFixed(6)}`);
const count = (n?: bigint) => (n === undefined ? "" : n.toString());

// ---- calls

const FILTERS = [
  ["model", "Model"], ["provider", "Provider"], ["status", "Status"], ["user", "User"], ["tag", "Tag"],
  ["key", "Key id"], ["from", "From (UTC)"], ["to", "To (UTC)"],
] as const;

/** A UTC time typed as `2026-12-02 20:15` (or any prefix of an ISO date), for the time range filter. */
function parsedTime(text: string | null): Timestamp | undefined {
  if (!text) {
    return undefined;
  }
  const date = new Date(`${text.trim().replace(" ", "T")}${/[zZ]|[+-]\d\d:\d\d$/.test(text) ? "" : "Z"}`);
  if (Number.isNaN(date.getTime())) {
    throw new Error(`"${text}" is not a time: write it as 2026-12-02 20:15 (UTC)`);
  }
  return timestampFromDate(date);
}

async function showCalls(query: URLSearchParams) {
  const form = <HTMLFormElement>h("form", { id: "filters", class: "filters" },
    ...FILTERS.map(([name, label]) => h("label", {}, label,
      h("input", { name, value: query.get(name) ?? "", autocomplete: "off", spellcheck: "false" }))),
    h("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams();
    new FormData(form).forEach((value, name) => value && chosen.set(name, String(value)));
    location.hash = `#/calls?${chosen}`;
  });
  render(form); // the filters stay on screen, whatever the query answers
  const page = await calls.listCalls({
    filter: {
      model: query.get("model") ?? "", provider: query.get("provider") ?? "", status: query.get("status") ?? "",
      userId: query.get("user") ?? "", tag: query.get("tag") ?? "", keyId: query.get("key") ?? "",
      startTime: parsedTime(query.get("from")), endTime: parsedTime(query.get("to")),
    },
    pageSize: 25,
    pageToken: query.get("page") ?? "",
  });
  const next = new URLSearchParams(query);
  next.set("page", page.nextPageToken);
  add(h("table", { id: "calls" },
    h("thead", {}, h("tr", {}, ...["Started", "Model", "Provider", "Status", "User", "Tokens in/out", "Cost",
      "Latency", "Cassette"].map((title) => h("th", {}, title)))),
    h("tbody", {}, ...page.calls.map((call) => h("tr", { "data-call": call.id },
      h("td", {}, h("a", { href: `#/call/${call.id}` }, time(call.startTime))),
      h("td", {}, call.model), h("td", {}, call.provider),
      h("td", { class: call.status === "OK" ? "ok" : "failed" }, call.status), h("td", {}, call.userId),
      h("td", {}, call.usage ? `${count(call.usage.inputTokens)} / ${count(call.usage.outputTokens)}` : ""),
      h("td", {}, usd(call.usage?.costUsd)), h("td", {}, ms(call.latency)),
      h("td", {}, named(CassetteOutcomeSchema, call.cassetteOutcome)))))),
  page.calls.length === 0 && h("p", { class: "empty" }, "No call matches."),
  h("nav", { class: "pager" }, query.get("page") && h("a", { href: "javascript:history.back()" }, "← Newer"),
    page.nextPageToken && h("a", { id: "older", href: `#/calls?${next}` }, "Older →")));
}

/** A message as the call page shows it: its role, its text parts, its tool calls. */
function messageView(message: Message, role = named(RoleSchema, message.role)): HTMLElement {
  return h("div", { class: `message ${role}` }, h("b", {}, role + (message.toolCallId ? ` (${message.toolCallId})` : "")),
    ...message.parts.map((part) => h("pre", {}, part.kind.case === "text" || part.kind.case === "refusal"
      ? part.kind.value : `[${part.kind.case}]`)),
    ...message.toolCalls.map((call) => h("pre", { class: "tool-call" }, `${call.name}(${call.argumentsJson}) · ${call.id}`)));
}

async function showCall(id: string) {
  const { call } = await calls.getCall({ callId: id });
  if (!call) {
    return;
  }
  const facts: [string, Child][] = [
    ["Call", call.id], ["Type", named(CallTypeSchema, call.callType)], ["Status", call.status],
    ["Model", `${call.model}${call.upstreamModel ? ` (answered by ${call.upstreamModel})` : ""}`],
    ["Provider", `${call.provider} (${call.providerType})`], ["Started", time(call.startTime)],
    ["Latency", ms(call.latency)], ["Time to first event", ms(call.timeToFirstEvent)],
    ["Attempts", String(call.attempts)],
    ["Tokens", `${count(call.usage?.inputTokens)} in · ${count(call.usage?.outputTokens)} out`
      + (call.usage?.cachedInputTokens ? ` · ${call.usage.cachedInputTokens} cached` : "")],
    ["Cost", usd(call.usage?.costUsd)], ["Finish", named(FinishReasonSchema, call.finishReason)],
    ["Cassette", `${named(CassetteOutcomeSchema, call.cassetteOutcome)} ${call.cassetteKey}`],
    ["Trace", h("a", { id: "trace-link", href: `#/trace/${call.traceId}` }, call.traceId)],
    ["Parent call", call.parentCallId && h("a", { href: `#/call/${call.parentCallId}` }, call.parentCallId)],
    ["Session", call.sessionId], ["User", call.userId], ["Tags", call.tags.join(", ")],
    ["Key", call.keyId && `${call.keyName} (${call.keyId})`], ["Error", call.errorMessage],
  ];
  render(h("h2", {}, `Call ${call.id}`),
    h("dl", { id: "call" }, ...facts.filter(([, value]) => value).flatMap(([name, value]) =>
      [h("dt", {}, name), h("dd", {}, value)])),
    h("h3", {}, "Messages"),
    h("section", { id: "messages" }, call.systemPrompt && h("div", { class: "message system" }, h("b", {}, "system"),
      h("pre", {}, call.systemPrompt)), ...call.messages.map((message) => messageView(message))),
    h("h3", {}, "Answer"),
    h("section", { id: "answer" }, call.responseMessage ? messageView(call.responseMessage) : "No answer."),
    call.tools.length > 0 && h("h3", {}, "Tools"),
    ...call.tools.map((tool) => h("pre", { class: "tool" }, `${tool.name}: ${tool.description}\n`
      + JSON.stringify(tool.parameters ?? {}, null, 2))));
}

/** A call of a trace, and under it the calls that follow it. */
function nodeView(node: CallNode): HTMLElement {
  const call = node.call as CallRecord;
  return h("li", { "data-call": call.id },
    h("a", { href: `#/call/${call.id}` }, `${call.model || named(CallTypeSchema, call.callType)}`),
    h("span", { class: call.status === "OK" ? "ok" : "failed" }, ` ${call.status}`),
    ` · ${ms(call.latency)} · ${usd(call.usage?.costUsd)} · ${named(CassetteOutcomeSchema, call.cassetteOutcome)}`,
    node.children.length > 0 && h("ul", {}, ...node.children.map(nodeView)));
}

async function showTrace(id: string) {
  const trace = await calls.getTrace({ traceId: id });
  render(h("h2", {}, `Trace ${trace.traceId}`),
    h("ul", { id: "trace", class: "tree" }, ...trace.roots.map(nodeView)));
}

// ---- usage charts

const GROUPINGS = { model: UsageGrouping.MODEL, provider: UsageGrouping.PROVIDER, key: UsageGrouping.KEY };
const BUCKETS = { hour: { bucket: UsageBucket.HOUR, millis: 3_600_000, count: 48 },
  day: { bucket: UsageBucket.DAY, millis: 86_400_000, count: 30 } };
const METRICS = ["cost", "calls", "tokens"] as const;
const COLOURS = ["#3557d6", "#1f7a4d", "#b35c00", "#8a3ab9", "#b3261e", "#0e7c86", "#6b7385", "#c0a000"];

async function showUsage(query: URLSearchParams) {
  const by = (query.get("by") ?? "model") as keyof typeof GROUPINGS;
  const span = BUCKETS[(query.get("bucket") ?? "hour") as keyof typeof BUCKETS] ?? BUCKETS.hour;
  const metric = (query.get("metric") ?? "cost") as (typeof METRICS)[number];
  // The last `count` buckets, the current one included.
  const first = Math.floor(Date.now() / span.millis) * span.millis - (span.count - 1) * span.millis;
  const usage = await calls.getUsage({ startTime: timestampFromDate(new Date(first)), groupBy: [GROUPINGS[by]],
    bucket: span.bucket });
  const values = new Map<string, number[]>();
  for (const row of usage.rows) {
    const group = by === "model" ? row.model : by === "provider" ? row.provider
      : row.keyId ? `${row.keyName} (${row.keyId})` : "(no key)";
    const index = Math.round((Number(timestampDate(row.bucketStartTime!)) - first) / span.millis);
    const totals = row.totals!;
    const value = metric === "cost" ? totals.costUsd : metric === "calls" ? Number(totals.calls)
      : Number(totals.inputTokens + totals.outputTokens);
    const series = values.get(group || "(none)") ?? new Array(span.count).fill(0);
    series[index] += value;
    values.set(group || "(none)", series);
  }
  const choice = (name: string, options: readonly string[], current: string) => h("span", { class: "choice" }, name,
    ...options.map((option) => {
      const chosen = new URLSearchParams(query);
      chosen.set(name, option);
      return h("a", { href: `#/usage?${chosen}`, class: option === current ? "chosen" : "" }, option);
    }));
  const total = usage.total!;
  render(h("div", { class: "filters" }, choice("by", Object.keys(GROUPINGS), by),
      choice("bucket", Object.keys(BUCKETS), query.get("bucket") ?? "hour"), choice("metric", METRICS, metric)),
    h("p", { id: "totals" }, `${total.calls} calls (${total.failedCalls} failed, ${total.replayedCalls} replayed) · `
      + `${total.inputTokens} tokens in · ${total.outputTokens} out · ${usd(total.costUsd)}`
      + ` (${usd(total.replayedCostUsd)} saved by cassettes)`),
    chart(values, first, span.millis, metric));
}

/** Stacked bars, one per time bucket, one colour per group, with a legend. */
function chart(values: Map<string, number[]>, first: number, bucketMillis: number, metric: string): HTMLElement {
  const width = 900, height = 280, left = 70, bottom = 30, top = 10;
  const buckets = values.values().next().value?.length ?? 0;
  const sums = Array.from({ length: buckets }, (_, i) => [...values.values()].reduce((sum, s) => sum + s[i], 0));
  const max = Math.max(...sums, 0) || 1;
  const x = (i: number) => left + (i * (width - left)) / Math.max(buckets, 1);
  const y = (value: number) => height - bottom - (value * (height - bottom - top)) / max;
  const label = (value: number) => `${metric === "cost" ? "$" : ""}${Number(value.toPrecision(2))}`;
  const day = bucketMillis >= 86_400_000;
  const plot = svg("svg", { id: "chart", viewBox: `0 0 ${width} ${height}`, role: "img" });
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    plot.append(svg("line", { x1: left, x2: width, y1: y(max * fraction), y2: y(max * fraction), class: "grid" }),
      svg("text", { x: left - 6, y: y(max * fraction) + 4, "text-anchor": "end" }, label(max * fraction)));
  }
  const stacked = new Array(buckets).fill(0);
  [...values.entries()].forEach(([group, series], colour) => series.forEach((value, i) => {
    if (value > 0) {
      const bar = svg("rect", { class: "bar", "data-group": group, x: x(i) + 1, width: Math.max(x(1) - x(0) - 2, 1),
        y: y(stacked[i] + value), height: y(stacked[i]) - y(stacked[i] + value), fill: COLOURS[colour % COLOURS.length] },
        svg("title", {}, `${group}: ${label(value)}`));
      stacked[i] += value;
      plot.append(bar);
    }
  }));
  const step = Math.ceil(buckets / 8);
  for (let i = 0; i < buckets; i += step) {
    const start = new Date(first + i * bucketMillis).toISOString();
    plot.append(svg("text", { x: x(i), y: height - 10 }, day ? start.slice(5, 10) : start.slice(11, 16)));
  }
  return h("figure", {}, plot, h("figcaption", { id: "legend" }, values.size === 0 ? "No calls in this range."
    : "", ...[...values.keys()].map((group, colour) => h("span", { class: "legend" },
    h("i", { style: `background:${COLOURS[colour % COLOURS.length]}` }), group))));
}

// ---- cassettes

async function showCassettes(query: URLSearchParams) {
  const scope = query.get("scope") ?? "";
  const all = await cassettes.listCassettes({});
  const scopes = [...new Set(all.cassettes.map((cassette) => cassette.scope))];
  const shown = all.cassettes.filter((cassette) => !scope || cassette.scope === scope);
  render(h("div", { class: "columns" },
    h("ul", { id: "scopes" }, h("li", {}, h("a", { href: "#/cassettes", class: scope ? "" : "chosen" }, "every scope")),
      ...scopes.map((name) => h("li", {}, h("a", { href: `#/cassettes?scope=${encodeURIComponent(name)}`,
        class: name === scope ? "chosen" : "" }, name)))),
    h("table", { id: "cassettes" }, h("tbody", {}, ...shown.map((cassette) => h("tr", {},
      h("td", {}, cassette.scope),
      h("td", {}, h("a", { href: `#/cassette?${new URLSearchParams({ scope: cassette.scope, key: cassette.shortKey })}` },
        cassette.shortKey)),
      h("td", {}, cassette.summary)))))));
}

async function showCassette(query: URLSearchParams) {
  const cassette = await cassettes.getCassette({ scope: query.get("scope") ?? "", key: query.get("key") ?? "" });
  render(h("h2", {}, `Cassette ${cassette.scope}/${cassette.key.slice(0, 16)}`),
    h("p", {}, `Recorded from ${cassette.provider} (${cassette.model}) · key ${cassette.key}`),
    h("h3", {}, "Request"), h("pre", { id: "cassette-request" }, cassette.requestJson),
    cassette.normalizedRequestJson && h("h3", {}, "Keyed as (after the match rules)"),
    cassette.normalizedRequestJson && h("pre", {}, cassette.normalizedRequestJson),
    ...cassette.takes.flatMap((take, n) => [h("h3", {}, `Take ${n + 1}${take.redacted ? " (redacted)" : ""}`),
      h("ol", { class: "events" }, ...take.events.map((event, i) => h("li", {},
        h("b", {}, event.event.case ?? ""), take.offsetsMillis.length ? ` +${take.offsetsMillis[i]} ms ` : " ",
        h("code", {}, toJsonString(ChatEventSchema, event).slice(0, 400)))))]));
}

async function showMisses() {
  const { misses } = await cassettes.listReplayMisses({});
  render(h("h2", {}, "Replay misses of this router"), misses.length === 0
    ? h("p", { class: "empty" }, "No request has missed its cassette since the router started.") : "",
  ...misses.map((miss) => h("section", { class: "miss" },
    h("h3", {}, `${miss.scope} · ${miss.requestSummary}`),
    h("p", {}, `key ${miss.key} · ${miss.calls} call${miss.calls === 1 ? "" : "s"}`, miss.closestKey
      ? h("span", {}, " · closest: ", h("a", { href: `#/cassette?${new URLSearchParams({ scope: miss.scope,
        key: miss.closestKey })}` }, miss.closestKey.slice(0, 16))) : " · the scope has no cassette"),
    h("div", { class: "diff" }, ...miss.differences.flatMap((line) => {
      // `path: recorded -> requested`, recorded value first.
      const [, path, recorded, requested] = /^(.*?): (.*) -> (.*)$/.exec(line) ?? [line, line, "", ""];
      return recorded || requested ? [h("div", { class: "path" }, path), h("div", { class: "removed" }, `- ${recorded}`),
        h("div", { class: "added" }, `+ ${requested}`)] : [h("div", {}, line)];
    })),
    miss.appliedRules.length > 0 && h("p", {}, `match rules applied: ${miss.appliedRules.join(", ")}`))));
}

// ---- navigation

async function show() {
  const [path, search] = (location.hash.slice(1) || "/calls").split("?");
  const query = new URLSearchParams(search ?? "");
  const [, section, id] = path.split("/");
  document.querySelectorAll("header nav a").forEach((link) =>
    link.classList.toggle("chosen", link.getAttribute("href")?.startsWith(`#/${section.replace(/^(call|trace)$/, "calls")
      .replace(/^cassette$/, "cassettes")}`) ?? false));
  status.textContent = "";
  view.setAttribute("aria-busy", "true");
  render();
  try {
    switch (section) {
      case "call": await showCall(decodeURIComponent(id)); break;
      case "trace": await showTrace(decodeURIComponent(id)); break;
      case "usage": await showUsage(query); break;
      case "cassettes": await showCassettes(query); break;
      case "cassette": await showCassette(query); break;
      case "misses": await showMisses(); break;
      default: await showCalls(query);
    }
  } catch (error) {
    const message = error instanceof ConnectError ? `${Code[error.code]}: ${error.rawMessage}` : String(error);
    status.textContent = message;
    add(h("p", { class: "failed" }, message));
  } finally {
    view.setAttribute("aria-busy", "false");
  }
}

window.addEventListener("hashchange", show);
show();
