package dev.llmrouter.server.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.knuddels.jtokkit.api.EncodingType;
import dev.llmrouter.api.v1.ChatRequest;
import dev.llmrouter.api.v1.Image;
import dev.llmrouter.api.v1.Message;
import dev.llmrouter.api.v1.Part;
import dev.llmrouter.api.v1.Role;
import dev.llmrouter.api.v1.Tool;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The local tokenizer against counts published by OpenAI: its cookbook ("How to count tokens with tiktoken") encodes
 * "tiktoken is great!" as 6 cl100k_base tokens, and counts a chat message as 3 tokens plus its role and content, with
 * 3 more priming the answer.
 */
class LocalTokenizerTest {

  @Test
  void countsAChatMessageAsOpenAiDoes() {
    LocalTokenizer.Count count = LocalTokenizer.count(user("tiktoken is great!"), "gpt-4");
    assertEquals("cl100k_base", count.encoding());
    assertEquals(3 + 1 + 6 + 3, count.tokens(), "3 per message, \"user\", the text's 6, 3 for the answer");
  }

  @Test
  void choosesTheEncodingOfTheModel() {
    assertEquals(EncodingType.CL100K_BASE, LocalTokenizer.encodingOf("gpt-4"));
    assertEquals(EncodingType.CL100K_BASE, LocalTokenizer.encodingOf("gpt-4-turbo-2024-04-09"));
    assertEquals(EncodingType.CL100K_BASE, LocalTokenizer.encodingOf("gpt-3.5-turbo"));
    assertEquals(EncodingType.O200K_BASE, LocalTokenizer.encodingOf("gpt-4o-mini"));
    assertEquals(EncodingType.O200K_BASE, LocalTokenizer.encodingOf("gpt-4.1-nano"));
    assertEquals(EncodingType.O200K_BASE, LocalTokenizer.encodingOf("o3-mini"));
    assertEquals(EncodingType.O200K_BASE, LocalTokenizer.encodingOf("claude-haiku-4-5"), "others: an estimate");
  }

  @Test
  void countsEveryMessageAndEstimatesImages() {
    ChatRequest two = user("tiktoken is great!").toBuilder().addMessages(Message.newBuilder()
        .setRole(Role.ROLE_ASSISTANT).addParts(Part.newBuilder().setText("tiktoken is great!"))).build();
    assertEquals(3 + (3 + 1 + 6) + (3 + 1 + 6), LocalTokenizer.count(two, "gpt-4").tokens());
    ChatRequest picture = ChatRequest.newBuilder().addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setImage(Image.newBuilder().setUrl("https://example.com/cat.png")))).build();
    assertEquals(3 + 3 + 1 + LocalTokenizer.IMAGE_TOKENS, LocalTokenizer.count(picture, "gpt-4").tokens());
  }

  @Test
  void userTextThatLooksLikeASpecialTokenIsText() {
    // Counted as the ordinary text it is (several tokens), not refused as OpenAI's end-of-text marker.
    assertTrue(LocalTokenizer.count(user("<|endoftext|>"), "gpt-4o").tokens() > 3 + 1 + 1 + 3);
  }

  @Test
  void theUpperBoundIsNeverBelowTheCount() {
    Struct schema = Struct.newBuilder().putFields("\u0001", Value.newBuilder().setNumberValue(1.2345678901234567E-300)
        .build()).putFields("flag", Value.newBuilder().setBoolValue(false).build()).build();
    ChatRequest withTool = user("tiktoken is great!").toBuilder()
        .addTools(Tool.newBuilder().setName("f").setParameters(schema)).build();
    for (ChatRequest request : List.of(user("tiktoken is great!"), user("<|endoftext|> \u00e9\u00e9 \ud83d\ude00"),
        withTool)) {
      assertTrue(LocalTokenizer.upperBound(request) >= LocalTokenizer.count(request, "gpt-4").tokens(),
          request::toString);
    }
  }

  private static ChatRequest user(String text) {
    return ChatRequest.newBuilder().addMessages(Message.newBuilder().setRole(Role.ROLE_USER)
        .addParts(Part.newBuilder().setText(text))).build();
  }
}
