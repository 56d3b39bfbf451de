package dev.llmrouter.server.ingress.openai.internal;

import dev.llmrouter.api.v1.Reasoning;

/**
 * A reasoning item's `encrypted_content`, the opaque text a Responses caller sends back unchanged: the router puts
 * in it the reasoning's signature together with what it is tagged with, the provider type that signed it and the
 * deployment and credential that produced it (`anthropic/claude/ANTHROPIC_API_KEY:<signature>`,
 * `anthropic/claude/ANTHROPIC_API_KEY:redacted:<data>`), so that the next turn gives the provider back the signature
 * it can verify. A signature with no provider stays as it is, and providers drop it; one tagged only with its
 * provider (`anthropic:<signature>`, as the router wrote them before it named deployments) is read as such.
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
    String tag = reasoning.getDeployment().isEmpty() ? reasoning.getProvider()
        : String.join("/", reasoning.getProvider(), reasoning.getDeployment(), reasoning.getCredential());
    return tag + ":" + (reasoning.getRedacted() ? REDACTED : "") + reasoning.getSignature();
  }

  /** Sets the signature, its tags and the redacted flag that {@code encryptedContent} holds. */
  static Reasoning.Builder read(String encryptedContent, Reasoning.Builder reasoning) {
    int colon = encryptedContent.indexOf(':');
    if (colon <= 0) {
      return reasoning.setSignature(encryptedContent);
    }
    String signature = encryptedContent.substring(colon + 1);
    boolean redacted = signature.startsWith(REDACTED);
    // Provider types, deployment names and variable names hold no '/' (config validation sees to the last two).
    String[] tag = encryptedContent.substring(0, colon).split("/", 3);
    reasoning.setProvider(tag[0]);
    if (tag.length == 3) {
      reasoning.setDeployment(tag[1]).setCredential(tag[2]);
    }
    return reasoning.setRedacted(redacted).setSignature(redacted ? signature.substring(REDACTED.length()) : signature);
  }
}
