package dev.llmrouter.client;

import com.google.protobuf.ByteString;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;

/** Messages in one line: {@code Messages.user("What is in this picture?", png, "image/png")}. */
public final class Messages {

  private Messages() {
  }

  /** Instructions that steer the model. */
  public static Message system(String text) {
    return text(Role.ROLE_SYSTEM, text);
  }

  /** A user's text. */
  public static Message user(String text) {
    return text(Role.ROLE_USER, text);
  }

  /** A user's text followed by a picture, given inline; {@code mimeType} such as {@code image/png}. */
  public static Message user(String text, byte[] image, String mimeType) {
    return user(text).toBuilder().addParts(Part.newBuilder()
        .setImage(Image.newBuilder().setData(ByteString.copyFrom(image)).setMimeType(mimeType))).build();
  }

  /** An earlier answer of the model, to continue a conversation. */
  public static Message assistant(String text) {
    return text(Role.ROLE_ASSISTANT, text);
  }

  /** The result of the tool call with this id. */
  public static Message toolResult(String callId, String text) {
    return text(Role.ROLE_TOOL, text).toBuilder().setToolCallId(callId).build();
  }

  private static Message text(Role role, String text) {
    return Message.newBuilder().setRole(role).addParts(Part.newBuilder().setText(text)).build();
  }
}
