package dev.llmrouter.cassettes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.CountTokensResponse;
import dev.llmrouter.api.v1.EmbedResponse;
import dev.llmrouter.api.v1.Role;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One recorded exchange: the canonical request, who served it, and the events the caller received (or, for an
 * embedding call, its vectors). The n-th identical request replays the n-th take when sequencing is on; by default a
 * cassette has one take.
 *
 * @param formatVersion the format version of the file it was read from; a cassette is always written in
 *     {@link #FORMAT_VERSION}
 * @param key the full cassette key (see {@link CanonicalRequest#key()})
 * @param request the canonical request as it was first recorded (see {@link CanonicalRequest#json()})
 * @param normalizedRequest the form the key was computed on, when match rules changed the request (see
 *     {@link CanonicalRequest#normalizedJson()}); empty when the key is the request's own
 */
public record Cassette(int formatVersion, String key, ObjectNode request, Optional<ObjectNode> normalizedRequest,
    ServedBy servedBy, List<Take> takes) {

  /** Version 2 added {@code normalized_request}: from then on the key is not always the key of {@code request}. */
  public static final int FORMAT_VERSION = 2;
  /** The oldest format version this code reads ({@code cassettes migrate} upgrades it). */
  public static final int OLDEST_FORMAT_VERSION = 1;

  private static final int MAX_TEXT_LENGTH = 60;

  public Cassette {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(normalizedRequest, "normalizedRequest");
    Objects.requireNonNull(servedBy, "servedBy");
    takes = List.copyOf(takes);
  }

  /** A cassette of the current format for a request. */
  public static Cassette of(CanonicalRequest request, ServedBy servedBy, List<Take> takes) {
    return new Cassette(FORMAT_VERSION, request.key(), request.json(),
        request.appliedRules().isEmpty() ? Optional.empty() : Optional.of(request.normalizedJson()), servedBy, takes);
  }

  /** The form the key was computed on: the normalized request, or the request itself. */
  public ObjectNode keyedRequest() {
    return normalizedRequest.orElse(request);
  }

  /** The same cassette keeping another readable request (the one first recorded, when re-recording). */
  public Cassette withRequest(ObjectNode firstRecorded) {
    return new Cassette(formatVersion, key, firstRecorded, normalizedRequest, servedBy, takes);
  }

  /**
   * The first text the user wrote (an embedding call's first text input), on one line and cut to 60 characters;
   * empty when there is none.
   */
  public String firstUserText() {
    return firstUserText(request);
  }

  /** {@code provider/model  first user text}: how listings and reports name a cassette. */
  public String summary() {
    return servedBy.provider() + "/" + servedBy.model() + "  " + firstUserText();
  }

  /** The first user text of a canonical request, as {@link #firstUserText()} gives it. */
  static String firstUserText(JsonNode request) {
    for (JsonNode message : request.path("messages")) {
      if (!message.path("role").asText().equals(Role.ROLE_USER.name())) {
        continue;
      }
      for (JsonNode part : message.path("parts")) {
        if (part.has("text")) {
          return oneLine(part.get("text").asText());
        }
      }
    }
    for (JsonNode input : request.path("inputs")) {
      if (input.has("text")) {
        return oneLine(input.get("text").asText());
      }
    }
    return "";
  }

  private static String oneLine(String text) {
    String line = text.replaceAll("\\s+", " ").strip();
    return line.length() <= MAX_TEXT_LENGTH ? line : line.substring(0, MAX_TEXT_LENGTH);
  }

  /** The provider name (from config) and the upstream model that answered. */
  public record ServedBy(String provider, String model) {
    public ServedBy {
      Objects.requireNonNull(provider, "provider");
      Objects.requireNonNull(model, "model");
    }
  }

  /**
   * One recorded answer: the events of a chat answer, the vectors of an embedding call, or a count call's count.
   *
   * @param offsetsMillis when each event arrived, in milliseconds from the start of the call; empty unless
   *     timing was recorded, otherwise one offset per event
   * @param redacted whether secrets were redacted from the events when written: a replay differs from what the
   *     provider sent
   * @param embedding the answer of an embedding call (whose take has no events); empty for a chat answer
   * @param tokenCount the answer of a count call (whose take has no events); empty for any other answer
   */
  public record Take(List<ChatEvent> events, List<Long> offsetsMillis, boolean redacted,
      Optional<EmbedResponse> embedding, Optional<CountTokensResponse> tokenCount) {
    public Take {
      events = List.copyOf(events);
      offsetsMillis = List.copyOf(offsetsMillis);
      if (!offsetsMillis.isEmpty() && offsetsMillis.size() != events.size()) {
        throw new IllegalArgumentException(offsetsMillis.size() + " offsets for " + events.size()
            + " events: give one offset per event, or none");
      }
      if ((embedding.isPresent() ? 1 : 0) + (tokenCount.isPresent() ? 1 : 0) + (events.isEmpty() ? 0 : 1) > 1) {
        throw new IllegalArgumentException("a take holds events, an embedding or a token count, one of them");
      }
    }

    /** A take of chat events. */
    public Take(List<ChatEvent> events, List<Long> offsetsMillis, boolean redacted) {
      this(events, offsetsMillis, redacted, Optional.empty(), Optional.empty());
    }

    /** A take as the provider sent it. */
    public Take(List<ChatEvent> events, List<Long> offsetsMillis) {
      this(events, offsetsMillis, false);
    }

    /** The take of an embedding call. */
    public static Take of(EmbedResponse embedding) {
      return new Take(List.of(), List.of(), false, Optional.of(embedding), Optional.empty());
    }

    /** The take of a count call. */
    public static Take of(CountTokensResponse tokenCount) {
      return new Take(List.of(), List.of(), false, Optional.empty(), Optional.of(tokenCount));
    }
  }
}
