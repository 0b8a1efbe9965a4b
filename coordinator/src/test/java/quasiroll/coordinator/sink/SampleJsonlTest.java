package quasiroll.coordinator.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import quasiroll.v1.SampleResult;
import quasiroll.v1.TopLogprobs;

class SampleJsonlTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void promptScoresAppearOnlyWhenThePromptWasScored() throws Exception {
    SampleResult plain = SampleResult.newBuilder().setPromptId("p").addTokenIds(7).build();
    assertFalse(JSON.readTree(SampleJsonl.line(plain)).has("prompt_logprobs"));
    SampleResult scored =
        plain.toBuilder()
            .addPromptTokenIds(1)
            .addPromptTokenIds(5)
            .addPromptLogprobs(-0.25f)
            .addPromptTopLogprobs(TopLogprobs.newBuilder().addTokenIds(3).addLogprobs(-0.125f))
            .build();
    JsonNode line = JSON.readTree(SampleJsonl.line(scored));
    assertEquals("[1,5]", line.get("prompt_token_ids").toString());
    assertEquals("[-0.25]", line.get("prompt_logprobs").toString());
    assertEquals("[[[3,-0.125]]]", line.get("prompt_top_logprobs").toString());
  }
}
