package dev.llmrouter.cassettes;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.llmrouter.api.v1.ChatEvent;
import dev.llmrouter.api.v1.CountTokensResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Cassette files: pretty-printed JSON (2-space indent, {@code "name": value}, {@code \n} line ends) with a fixed key
 * order ({@code format_version, key, served_by, request, normalized_request, takes}) and a trailing newline, so the
 * same cassette always gives the same bytes. Every format version from {@link Cassette#OLDEST_FORMAT_VERSION} is
 * read; the current one, {@link Cassette#FORMAT_VERSION}, is written. A take holds {@code events} (a chat answer) or
 * {@code embedding} (an embedding call's, see {@link EmbeddingTakeJson}) or {@code token_count} (a count call's).
 */
public final class CassetteCodec {

  /** Like {@code JSON.stringify(value, null, 2)}: the same on every platform, whatever its line separator. */
  private static final ObjectWriter PRETTY_WRITER = Json.MAPPER.writer(new DefaultPrettyPrinter(
          Separators.createDefaultInstance()
              .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
              .withObjectEmptySeparator("")
              .withArrayEmptySeparator(""))
      .withObjectIndenter(new DefaultIndenter("  ", "\n"))
      .withArrayIndenter(new DefaultIndenter("  ", "\n")));

  private CassetteCodec() {
  }

  public static byte[] write(Cassette cassette) {
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("format_version", Cassette.FORMAT_VERSION);
    root.put("key", cassette.key());
    root.putObject("served_by")
        .put("provider", cassette.servedBy().provider())
        .put("model", cassette.servedBy().model());
    root.set("request", cassette.request());
    cassette.normalizedRequest().ifPresent(normalized -> root.set("normalized_request", normalized));
    ArrayNode takes = root.putArray("takes");
    for (Cassette.Take take : cassette.takes()) {
      ObjectNode takeNode = takes.addObject();
      if (take.tokenCount().isPresent()) {
        takeNode.set("token_count", Json.toTree(take.tokenCount().get()));
        continue;
      }
      if (take.embedding().isPresent()) {
        takeNode.set("embedding", EmbeddingTakeJson.write(take.embedding().get()));
        continue;
      }
      ArrayNode events = takeNode.putArray("events");
      take.events().forEach(event -> events.add(Json.toTree(event)));
      if (!take.offsetsMillis().isEmpty()) {
        ArrayNode offsets = takeNode.putArray("offsets_ms");
        take.offsetsMillis().forEach(offsets::add);
      }
      if (take.redacted()) {
        takeNode.put("redacted", true);
      }
    }
    try {
      return (PRETTY_WRITER.writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a Jackson tree always serialises", e);
    }
  }

  public static Cassette read(byte[] bytes, Path pathForErrors) throws CorruptCassetteException {
    return new Reader(pathForErrors).cassette(bytes);
  }

  /** Reads and parses one cassette file; a file that cannot be read is as unusable as a corrupt one. */
  public static Cassette readFile(Path file) throws CorruptCassetteException {
    try {
      return read(Files.readAllBytes(file), file);
    } catch (IOException e) {
      throw new CorruptCassetteException(file, "cannot be read: " + e, e);
    }
  }

  /** Reads one file, naming the file and the offending field in every error. */
  private record Reader(Path path) {

    Cassette cassette(byte[] bytes) throws CorruptCassetteException {
      JsonNode root = parse(bytes);
      if (!root.isObject()) {
        throw corrupt("the content is not a JSON object");
      }
      int version = formatVersion(root);
      String key = field(root, "", "key", JsonNodeType.STRING).textValue();
      if (!CanonicalRequest.isKey(key)) {
        throw corrupt("\"key\" is not 64 lowercase hex characters: \"" + key + "\"");
      }
      JsonNode servedByNode = field(root, "", "served_by", JsonNodeType.OBJECT);
      Cassette.ServedBy servedBy = new Cassette.ServedBy(
          field(servedByNode, "served_by.", "provider", JsonNodeType.STRING).textValue(),
          field(servedByNode, "served_by.", "model", JsonNodeType.STRING).textValue());
      ObjectNode request = (ObjectNode) field(root, "", "request", JsonNodeType.OBJECT);
      Optional<ObjectNode> normalized = version >= 2 && root.has("normalized_request")
          ? Optional.of((ObjectNode) field(root, "", "normalized_request", JsonNodeType.OBJECT)) : Optional.empty();
      JsonNode takeNodes = field(root, "", "takes", JsonNodeType.ARRAY);
      List<Cassette.Take> takes = new ArrayList<>();
      for (int index = 0; index < takeNodes.size(); index++) {
        takes.add(take(takeNodes.get(index), "takes[" + index + "]"));
      }
      return new Cassette(version, key, request, normalized, servedBy, takes);
    }

    /** The file's format version, which must be one this code reads. */
    private int formatVersion(JsonNode root) throws CorruptCassetteException {
      JsonNode version = field(root, "", "format_version", JsonNodeType.NUMBER);
      if (version.canConvertToInt() && version.intValue() >= Cassette.OLDEST_FORMAT_VERSION
          && version.intValue() <= Cassette.FORMAT_VERSION) {
        return version.intValue();
      }
      boolean newer = version.canConvertToInt() && version.intValue() > Cassette.FORMAT_VERSION;
      throw corrupt("unsupported format version " + version + ": this version of llm-router reads versions "
          + Cassette.OLDEST_FORMAT_VERSION + " to " + Cassette.FORMAT_VERSION + (newer
              ? "; the file was written by a newer llm-router: upgrade this one" : ""));
    }

    private JsonNode parse(byte[] bytes) throws CorruptCassetteException {
      try {
        JsonNode root = Json.MAPPER.readTree(bytes);
        if (root == null || root.isMissingNode()) {
          throw corrupt("the file is empty");
        }
        return root;
      } catch (JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        // Jackson names the (hidden) source inside nested locations; the path already says which file it is.
        String problem = e.getOriginalMessage().replaceAll("\\[Source: [^;]*; ", "[");
        throw new CorruptCassetteException(path, "invalid JSON" + where + ": " + problem, e);
      } catch (IOException e) {
        throw new CorruptCassetteException(path, "cannot be parsed: " + e.getMessage(), e);
      }
    }

    private Cassette.Take take(JsonNode take, String at) throws CorruptCassetteException {
      if (!take.isObject()) {
        throw corrupt("\"" + at + "\" is not an object");
      }
      if (take.has("token_count")) {
        try {
          return Cassette.Take.of(Json.fromTree(take.get("token_count"), CountTokensResponse.newBuilder()).build());
        } catch (InvalidProtocolBufferException e) {
          throw corrupt("\"" + at + ".token_count\" is not a valid token count: " + e.getMessage());
        }
      }
      if (take.has("embedding")) {
        try {
          return Cassette.Take.of(EmbeddingTakeJson.read(take.get("embedding")));
        } catch (IllegalArgumentException e) {
          throw corrupt("\"" + at + ".embedding\" is not a valid embedding: " + e.getMessage());
        }
      }
      JsonNode eventNodes = field(take, at + ".", "events", JsonNodeType.ARRAY);
      List<ChatEvent> events = new ArrayList<>();
      for (int index = 0; index < eventNodes.size(); index++) {
        events.add(event(eventNodes.get(index), at + ".events[" + index + "]"));
      }
      List<Long> offsets = new ArrayList<>();
      if (take.has("offsets_ms")) {
        for (JsonNode offset : field(take, at + ".", "offsets_ms", JsonNodeType.ARRAY)) {
          if (!offset.isIntegralNumber() || !offset.canConvertToLong()) {
            throw corrupt("\"" + at + ".offsets_ms\" holds a value that is not an integer: " + offset);
          }
          offsets.add(offset.longValue());
        }
        if (offsets.size() != events.size()) {
          throw corrupt("\"" + at + ".offsets_ms\" has " + offsets.size() + " entries for "
              + events.size() + " events");
        }
      }
      JsonNode redacted = take.path("redacted");
      if (!redacted.isMissingNode() && !redacted.isBoolean()) {
        throw corrupt("\"" + at + ".redacted\" is not true or false: " + redacted);
      }
      return new Cassette.Take(events, offsets, redacted.asBoolean(false));
    }

    private ChatEvent event(JsonNode event, String at) throws CorruptCassetteException {
      try {
        return Json.fromTree(event, ChatEvent.newBuilder()).build();
      } catch (InvalidProtocolBufferException e) {
        throw new CorruptCassetteException(path, "\"" + at + "\" is not a valid ChatEvent: " + e.getMessage(),
            e);
      }
    }

    private JsonNode field(JsonNode parent, String parentPath, String name, JsonNodeType type)
        throws CorruptCassetteException {
      JsonNode value = parent.get(name);
      if (value == null) {
        throw corrupt("missing field \"" + parentPath + name + "\"");
      }
      if (value.getNodeType() != type) {
        throw corrupt("field \"" + parentPath + name + "\" is " + describe(value.getNodeType())
            + ", expected " + describe(type));
      }
      return value;
    }

    private static String describe(JsonNodeType type) {
      return switch (type) {
        case ARRAY -> "an array";
        case OBJECT -> "an object";
        case STRING -> "a string";
        case NUMBER -> "a number";
        case BOOLEAN -> "a boolean";
        case NULL -> "null";
        default -> type.name().toLowerCase(Locale.ROOT);
      };
    }

    private CorruptCassetteException corrupt(String problem) {
      return new CorruptCassetteException(path, problem);
    }
  }
}
