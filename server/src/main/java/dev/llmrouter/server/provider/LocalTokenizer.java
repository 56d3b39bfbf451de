package dev.llmrouter.server.provider;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Tool;
import dev.llmrouter.api.v1.ToolCall;
import java.util.List;
import java.util.Locale;

/**
 * Counts a chat request's input tokens on the router itself, with OpenAI's encodings (jtokkit): exact for the text
 * of OpenAI's models, an estimate for every other model. A message costs its text plus 3 tokens and its role, and
 * the answer is primed with 3 more, as OpenAI's cookbook counts chat messages; tools count by their name,
 * description and schema. An image counts as {@value #IMAGE_TOKENS} tokens (a 1024x1024 picture at high detail on
 * OpenAI); a document by its title only, since only its host can read its pages. CPU work that grows with the text:
 * call it off the event loop for large requests.
 */
public final class LocalTokenizer {

  /** What an image costs in the estimate: a 1024x1024 picture at OpenAI's high detail. */
  static final int IMAGE_TOKENS = 765;
  private static final int TOKENS_PER_MESSAGE = 3;
  private static final int REPLY_PRIMING_TOKENS = 3;
  /** OpenAI's models before GPT-4o, which use cl100k_base; the newer ones and every other model use o200k_base. */
  private static final List<String> CL100K_MODELS = List.of("gpt-4-", "gpt-4", "gpt-3.5", "text-embedding-",
      "davinci-002", "babbage-002");
  private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();

  /** A count and the encoding it was made with. */
  public record Count(int tokens, String encoding) {
  }

  private LocalTokenizer() {
  }

  /** The encoding the tokens of {@code upstreamModel} are counted with. */
  public static EncodingType encodingOf(String upstreamModel) {
    String model = upstreamModel.toLowerCase(Locale.ROOT);
    boolean older = !model.startsWith("gpt-4o") && !model.startsWith("gpt-4.") && CL100K_MODELS.stream()
        .anyMatch(prefix -> model.equals(prefix) || model.startsWith(prefix));
    return older ? EncodingType.CL100K_BASE : EncodingType.O200K_BASE;
  }

  /** The input tokens of {@code request} as {@code upstreamModel} would read them (see the class comment). */
  public static Count count(ChatRequest request, String upstreamModel) {
    EncodingType type = encodingOf(upstreamModel);
    Encoding encoding = REGISTRY.getEncoding(type);
    int tokens = REPLY_PRIMING_TOKENS;
    for (Message message : request.getMessagesList()) {
      tokens += TOKENS_PER_MESSAGE + text(encoding, roleName(message));
      for (Part part : message.getPartsList()) {
        tokens += switch (part.getKindCase()) {
          case TEXT -> text(encoding, part.getText());
          case REFUSAL -> text(encoding, part.getRefusal());
          case REASONING -> text(encoding, part.getReasoning().getText());
          case IMAGE -> IMAGE_TOKENS;
          case DOCUMENT -> text(encoding, part.getDocument().getTitle());
          default -> 0;
        };
      }
      for (ToolCall call : message.getToolCallsList()) {
        tokens += text(encoding, call.getName()) + text(encoding, call.getArgumentsJson());
      }
      tokens += text(encoding, message.getToolCallId());
    }
    for (Tool tool : request.getToolsList()) {
      tokens += text(encoding, tool.getName()) + text(encoding, tool.getDescription())
          + text(encoding, json(tool.getParameters()));
    }
    return new Count(tokens, type.getName());
  }

  /**
   * A number {@link #count} never exceeds, found without tokenizing (the pre-flight check of a request far within its
   * window needs no more): each token stands for at least one byte of text, and the texts are within the request's
   * protobuf bytes, but for the role names, the images' fixed price and the tools' schemas, whose JSON (escapes and
   * printed numbers included) is within six times their protobuf bytes.
   */
  public static long upperBound(ChatRequest request) {
    // Loops, not streams: this runs on the event loop for every chat call.
    long images = 0;
    for (Message message : request.getMessagesList()) {
      for (Part part : message.getPartsList()) {
        images += part.hasImage() ? 1 : 0;
      }
    }
    long toolBytes = 0;
    for (Tool tool : request.getToolsList()) {
      toolBytes += tool.getSerializedSize();
    }
    return REPLY_PRIMING_TOKENS + (long) request.getMessagesCount() * (TOKENS_PER_MESSAGE + "assistant".length())
        + request.getSerializedSize() + 6 * toolBytes + images * IMAGE_TOKENS;
  }

  private static String roleName(Message message) {
    return switch (message.getRole()) {
      case ROLE_SYSTEM -> "system";
      case ROLE_ASSISTANT -> "assistant";
      case ROLE_TOOL -> "tool";
      default -> "user";
    };
  }

  private static String json(Struct schema) {
    try {
      return JsonFormat.printer().omittingInsignificantWhitespace().print(schema);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a Struct always prints as JSON", e);
    }
  }

  private static int text(Encoding encoding, String text) {
    return text.isEmpty() ? 0 : encoding.countTokensOrdinary(text);
  }
}
