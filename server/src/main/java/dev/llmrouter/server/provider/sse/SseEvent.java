package dev.llmrouter.server.provider.sse;

/**
 * One dispatched server-sent event.
 *
 * @param type the `event:` field, or `message` when the event named none
 * @param data the `data:` lines joined with `\n`
 * @param id the last event id seen on the stream, or empty
 */
public record SseEvent(String type, String data, String id) {
}
