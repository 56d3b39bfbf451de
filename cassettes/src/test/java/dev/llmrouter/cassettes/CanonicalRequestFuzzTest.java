package dev.llmrouter.cassettes;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.llmrouter.api.v1.ChatRequest;

/**
 * Fuzzes the canonical request: for any request (the input read as a protobuf `ChatRequest`), the key is
 * deterministic, survives a serialisation round trip, and is the key of its own canonical JSON. The corpus is in its
 * Inputs folder.
 */
class CanonicalRequestFuzzTest {

  @FuzzTest(maxExecutions = 20_000)
  void keyIsDeterministic(byte[] input) throws InvalidProtocolBufferException {
    ChatRequest request;
    try {
      request = ChatRequest.parseFrom(input);
    } catch (InvalidProtocolBufferException notARequest) {
      return;
    }
    CanonicalRequest canonical = CanonicalRequest.of(request);
    assertEquals(canonical.key(), CanonicalRequest.of(request).key());
    assertEquals(canonical.key(), CanonicalRequest.of(ChatRequest.parseFrom(request.toByteArray())).key());
    assertEquals(canonical.key(), CanonicalRequest.keyOf(canonical.json()));
  }
}
