package dev.llmrouter.server.provider.anthropic;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a Claude model's generation tells of it, by its name, wherever it is served: Anthropic's API
 * (`claude-sonnet-4-5`), Vertex AI (`claude-sonnet-4-5@20250929`) and Bedrock (`us.anthropic.claude-opus-4-6-v1`).
 */
public final class ClaudeModels {

  /** A name of the current scheme, `claude-{family}-{major}[-{minor}]`, the minor never a date. */
  private static final Pattern NAMED_BY_FAMILY = Pattern.compile("claude-[a-z]+-(\\d+)(?:[-.](\\d{1,2})(?!\\d))?");

  /** The first generation that refuses a prefill (Claude 4.6). */
  private static final int NO_PREFILL_FROM = 406;

  private ClaudeModels() {
  }

  /**
   * The generation of a model named `claude-{family}-{major}[-{minor}]`, as major * 100 + minor (405 for
   * claude-haiku-4-5, 400 for claude-sonnet-4-20250514); 0 for a name of the older scheme (claude-3-5-sonnet,
   * claude-v2, claude-instant) and for a name that is no Claude model's.
   */
  public static int generation(String model) {
    Matcher named = NAMED_BY_FAMILY.matcher(model.toLowerCase(Locale.ROOT));
    if (!named.find()) {
      return 0;
    }
    return Integer.parseInt(named.group(1)) * 100 + (named.group(2) == null ? 0 : Integer.parseInt(named.group(2)));
  }

  /**
   * Whether the model continues a prefill (a conversation that ends with the assistant's message): every generation
   * before 4.6; from 4.6 Claude refuses such a conversation ("This model does not support assistant message
   * prefill").
   */
  public static boolean continuesPrefill(String model) {
    return generation(model) < NO_PREFILL_FROM;
  }
}
