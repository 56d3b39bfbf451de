// The page's demo tool: the model may call get_weather, and the page answers it (the answer is shown and can be
// edited before it is sent). Its definition and its answer for Paris are what the demo cassettes were recorded with
// (DemoCassettesTest.LIVE_PAGE_START and LIVE_PAGE_WEATHER), so the demo conversation replays byte for byte.
import type { JsonObject } from "@bufbuild/protobuf";

export const WEATHER_TOOL = {
  name: "get_weather",
  description: "Current weather for a city (the live page answers it).",
  parameters: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
  } as JsonObject,
};

// Made-up weather, the same on every run.
const DEMO_WEATHER: Record<string, { temperature_c: number; conditions: string }> = {
  Paris: { temperature_c: 18, conditions: "partly cloudy" },
  London: { temperature_c: 14, conditions: "light rain" },
  Tokyo: { temperature_c: 22, conditions: "clear" },
};

/** The page's answer to a get_weather call, from its JSON arguments. */
export function answerWeather(argumentsJson: string): string {
  let city = "";
  try {
    city = String(JSON.parse(argumentsJson).city ?? "");
  } catch {
    return JSON.stringify({ error: "the arguments are not JSON" });
  }
  const weather = DEMO_WEATHER[city] ?? { temperature_c: 20, conditions: "clear" };
  return JSON.stringify({ city, ...weather });
}
