package dev.llmrouter.server.ingress.openai.internal;

import dev.llmrouter.api.v1.Reasoning;

/**
 * A reasoning item's `encrypted_content`, the opaque text a Responses caller sends back unchanged: the router puts
 * in it the reasoning's signature together with the provider type that signed it (`anthropic:<signature>`,
 * `anthropic:redacted:<data>`), so that the next turn gives the provider back the signature it can verify. A
 * signature with no provider (OpenAI's own `gAAAA…` tokens have no `:`) stays as it is, and providers drop it.
 */
final class EncryptedReasoning {

  private static final String REDACTED = "redacted:";

  private EncryptedReasoning() {
  }

  /** The encrypted content of {@code reasoning}, empty when it has no signature. */
  static String of(Reasoning reasoning) {
    if (reasoning.getSignature().isEmpty() || reasoning.getProvider().isEmpty()) {
      return reasoning.getSignature();
    }
    return reasoning.getProvider() + ":" + (reasoning.getRedacted() ? REDACTED : "") + reasoning.getSignature();
  }

  /** Sets the signature, provider and redacted flag that {@code encryptedContent} holds. */
  static Reasoning.Builder read(String encryptedContent, Reasoning.Builder reasoning) {
    int colon = encryptedContent.indexOf(':');
    if (colon <= 0) {
      return reasoning.setSignature(encryptedContent);
    }
    String signature = encryptedContent.substring(colon + 1);
    boolean redacted = signature.startsWith(REDACTED);
    return reasoning.setProvider(encryptedContent.substring(0, colon)).setRedacted(redacted)
        .setSignature(redacted ? signature.substring(REDACTED.length()) : signature);
  }
}
