package dev.llmrouter.cassettes;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.EmbedResponse;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One recorded exchange: the canonical request, who served it, and the events the caller received (or, for an
 * embedding call, its vectors). The n-th identical request replays the n-th take when sequencing is on; by default a
 * cassette has one take.
 *
 * @param formatVersion the file format version, {@link #FORMAT_VERSION} for cassettes written by this code
 * @param key the full cassette key (see {@link CanonicalRequest#key()})
 * @param request the canonical request (see {@link CanonicalRequest#json()})
 */
public record Cassette(int formatVersion, String key, ObjectNode request, ServedBy servedBy, List<Take> takes) {

  public static final int FORMAT_VERSION = 1;

  public Cassette {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(servedBy, "servedBy");
    takes = List.copyOf(takes);
  }

  /** A cassette of the current format for a request. */
  public static Cassette of(CanonicalRequest request, ServedBy servedBy, List<Take> takes) {
    return new Cassette(FORMAT_VERSION, request.key(), request.json(), servedBy, takes);
  }

  /** The provider name (from config) and the upstream model that answered. */
  public record ServedBy(String provider, String model) {
    public ServedBy {
      Objects.requireNonNull(provider, "provider");
      Objects.requireNonNull(model, "model");
    }
  }

  /**
   * One recorded answer: the events of a chat answer, or the vectors of an embedding call.
   *
   * @param offsetsMillis when each event arrived, in milliseconds from the start of the call; empty unless
   *     timing was recorded, otherwise one offset per event
   * @param redacted whether secrets were redacted from the events when written: a replay differs from what the
   *     provider sent
   * @param embedding the answer of an embedding call (whose take has no events); empty for a chat answer
   */
  public record Take(List<ChatEvent> events, List<Long> offsetsMillis, boolean redacted,
      Optional<EmbedResponse> embedding) {
    public Take {
      events = List.copyOf(events);
      offsetsMillis = List.copyOf(offsetsMillis);
      if (!offsetsMillis.isEmpty() && offsetsMillis.size() != events.size()) {
        throw new IllegalArgumentException(offsetsMillis.size() + " offsets for " + events.size()
            + " events: give one offset per event, or none");
      }
      if (embedding.isPresent() && !events.isEmpty()) {
        throw new IllegalArgumentException("a take holds events or an embedding, not both");
      }
    }

    /** A take of chat events. */
    public Take(List<ChatEvent> events, List<Long> offsetsMillis, boolean redacted) {
      this(events, offsetsMillis, redacted, Optional.empty());
    }

    /** A take as the provider sent it. */
    public Take(List<ChatEvent> events, List<Long> offsetsMillis) {
      this(events, offsetsMillis, false);
    }

    /** The take of an embedding call. */
    public static Take of(EmbedResponse embedding) {
      return new Take(List.of(), List.of(), false, Optional.of(embedding));
    }
  }
}
