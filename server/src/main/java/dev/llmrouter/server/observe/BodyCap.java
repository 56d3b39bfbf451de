package dev.llmrouter.server.observe;

import dev.llmrouter.api.v1.CallRecord;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps the prompts and the answer of a call record within `call_log.max_body_bytes`, so that a 15 MB request does
 * not become a 15 MB row: first the data of images and documents is left out, then every text is cut by the same
 * share, each with a note of what was left out.
 */
final class BodyCap {

  /** Room left for the note that ends each cut text. */
  private static final int NOTE_BYTES = 80;

  private BodyCap() {
  }

  /** Cuts the record's bodies to about {@code maxBytes}; true when anything was cut. */
  static boolean fit(CallRecord.Builder record, int maxBytes) {
    if (bodyBytes(record) <= maxBytes) {
      return false;
    }
    for (Part.Builder part : parts(record)) {
      if (part.hasImage() && part.getImage().hasData()) {
        part.getImageBuilder().clearData();
      } else if (part.hasDocument()) {
        part.getDocumentBuilder().clearData();
      }
    }
    long size = bodyBytes(record);
    if (size <= maxBytes) {
      return true;
    }
    long textBytes = utf8Length(record.getSystemPrompt());
    int texts = 1;
    for (Part.Builder part : parts(record)) {
      if (part.hasText()) {
        textBytes += utf8Length(part.getText());
        texts++;
      }
    }
    long room = maxBytes - (size - textBytes) - (long) NOTE_BYTES * texts;
    double keep = Math.max(0, room) / (double) Math.max(1, textBytes);
    record.setSystemPrompt(cut(record.getSystemPrompt(), keep));
    for (Part.Builder part : parts(record)) {
      if (part.hasText()) {
        part.setText(cut(part.getText(), keep));
      }
    }
    return true;
  }

  private static long bodyBytes(CallRecord.Builder record) {
    long size = utf8Length(record.getSystemPrompt()) + record.getResponseMessage().getSerializedSize();
    for (Message message : record.getMessagesList()) {
      size += message.getSerializedSize();
    }
    return size;
  }

  private static List<Part.Builder> parts(CallRecord.Builder record) {
    List<Part.Builder> parts = new ArrayList<>();
    record.getMessagesBuilderList().forEach(message -> parts.addAll(message.getPartsBuilderList()));
    if (record.hasResponseMessage()) {
      parts.addAll(record.getResponseMessageBuilder().getPartsBuilderList());
    }
    return parts;
  }

  private static String cut(String text, double keep) {
    int kept = (int) (text.length() * keep);
    if (kept >= text.length()) {
      return text;
    }
    return text.substring(0, kept) + " [... " + (text.length() - kept)
        + " more characters left out: call_log.max_body_bytes]";
  }

  private static long utf8Length(String text) {
    return text.getBytes(StandardCharsets.UTF_8).length;
  }
}
