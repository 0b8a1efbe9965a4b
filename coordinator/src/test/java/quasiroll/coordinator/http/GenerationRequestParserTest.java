package quasiroll.coordinator.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GenerationRequestParserTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpApiSettings SETTINGS =
      HttpApiSettings.from(ConfigFactory.load(), "127.0.0.1");
  private final GenerationRequestParser parser = new GenerationRequestParser(SETTINGS);

  private GenerationRequest parse(String json) throws Exception {
    return parser.parse(JSON.readTree(json), false);
  }

  @Test
  void promptFormsAndDefaults() throws Exception {
    GenerationRequest r = parse("{\"model\": \"m\", \"prompt\": \"hi\"}");
    assertEquals(1, r.prompts().size());
    assertEquals("hi", r.prompts().get(0).text());
    assertEquals(1, r.n());
    assertEquals("iid", r.sampler());
    assertEquals(16, r.maxTokens());
    assertNull(r.temperature());
    assertEquals(-1, r.logprobs());
    assertArrayEquals(
        new int[] {1, 2},
        parse("{\"model\": \"m\", \"prompt\": [1, 2]}").prompts().get(0).tokenIds());
    GenerationRequest lists = parse("{\"model\": \"m\", \"prompt\": [[1], [2, 3]]}");
    assertEquals(2, lists.prompts().size());
    assertEquals(2, parse("{\"model\": \"m\", \"prompt\": [\"a\", \"b\"]}").prompts().size());
  }

  @Test
  void nAboveOneIsOneCoupledGroupWithTheConfiguredSampler() throws Exception {
    GenerationRequest r = parse("{\"model\": \"m\", \"prompt\": \"hi\", \"n\": 8, \"seed\": 5}");
    assertEquals(8, r.groupSize());
    assertEquals(0, r.indexOffset());
    assertEquals("lattice", r.sampler());
    assertEquals(5, r.seed());
    assertEquals("0", r.promptId(0, 1));
    GenerationRequest part =
        parse(
            "{\"model\": \"m\", \"prompt\": \"hi\", \"n\": 4, \"seed\": 5, \"group_size\": 16,"
                + " \"index_offset\": 12, \"group_id\": \"g\"}");
    assertEquals(16, part.groupSize());
    assertEquals(12, part.indexOffset());
    assertEquals("g", part.promptId(0, 1));
    assertEquals("g/1", part.promptId(1, 2));
  }

  /** lm-evaluation-harness's loglikelihood request: echo + logprobs scores the prompt. */
  @Test
  void echoWithLogprobsScoresThePromptAndMaxTokensZeroOnlyWithEcho() throws Exception {
    GenerationRequest r =
        parse(
            "{\"model\": \"m\", \"prompt\": [[1, 2, 3]], \"echo\": true, \"logprobs\": 1,"
                + " \"max_tokens\": 1, \"temperature\": 0}");
    assertTrue(r.scoresPrompt());
    assertFalse(r.promptOnly());
    GenerationRequest zero =
        parse("{\"model\": \"m\", \"prompt\": \"x\", \"echo\": true, \"max_tokens\": 0}");
    assertTrue(zero.promptOnly());
    assertFalse(zero.scoresPrompt());
    assertFalse(parse("{\"model\": \"m\", \"prompt\": \"x\", \"logprobs\": 1}").scoresPrompt());
    ApiError e =
        assertThrows(
            ApiError.class,
            () -> parse("{\"model\": \"m\", \"prompt\": \"x\", \"max_tokens\": 0}"));
    assertEquals("max_tokens", e.param);
  }

  @Test
  void aRequestWithoutSeedGetsARandomOne() throws Exception {
    GenerationRequest a = parse("{\"model\": \"m\", \"prompt\": \"hi\"}");
    GenerationRequest b = parse("{\"model\": \"m\", \"prompt\": \"hi\"}");
    assertTrue(a.seed() >= 0 && b.seed() >= 0);
    assertTrue(a.seed() != b.seed(), "two random 63-bit seeds collided");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"prompt\": \"x\"}| model",
        "{\"model\": \"m\"}| prompt",
        "{\"model\": \"m\", \"prompt\": []}| prompt",
        "{\"model\": \"m\", \"prompt\": [1, \"a\"]}| prompt",
        "{\"model\": \"m\", \"prompt\": \"x\", \"n\": 0}| n",
        "{\"model\": \"m\", \"prompt\": \"x\", \"n\": 1.5}| n",
        "{\"model\": \"m\", \"prompt\": \"x\", \"temperature\": -0.1}| temperature",
        "{\"model\": \"m\", \"prompt\": \"x\", \"top_p\": 0}| top_p",
        "{\"model\": \"m\", \"prompt\": \"x\", \"min_p\": 1}| min_p",
        "{\"model\": \"m\", \"prompt\": \"x\", \"max_tokens\": 0}| max_tokens",
        "{\"model\": \"m\", \"prompt\": \"x\", \"stop\": [\"\"]}| stop",
        "{\"model\": \"m\", \"prompt\": \"x\", \"stop_token_ids\": [-1]}| stop_token_ids",
        "{\"model\": \"m\", \"prompt\": \"x\", \"logprobs\": 21}| logprobs",
        "{\"model\": \"m\", \"prompt\": \"x\", \"echo\": true, \"max_tokens\": -1}| max_tokens",
        "{\"model\": \"m\", \"prompt\": \"x\", \"frequency_penalty\": 0.2}| frequency_penalty",
        "{\"model\": \"m\", \"prompt\": \"x\", \"logit_bias\": {\"1\": 5}}| logit_bias",
        "{\"model\": \"m\", \"prompt\": \"x\", \"best_of\": 3}| best_of",
        "{\"model\": \"m\", \"prompt\": \"x\", \"group_size\": 4}| seed",
        "{\"model\": \"m\", \"prompt\": \"x\", \"index_offset\": 1, \"seed\": 1}| group_size",
        "{\"model\": \"m\", \"prompt\": \"x\", \"n\": 2, \"group_size\": 4, \"index_offset\": 3,"
            + " \"seed\": 1}| index_offset",
        "{\"model\": \"m\", \"prompt\": \"x\", \"sampler_options\": [1]}| sampler_options",
        "{\"model\": \"m\", \"prompt\": \"x\", \"seed\": -3}| seed"
      })
  void badFieldsAre400sNamingTheField(String body, String field) {
    ApiError e = assertThrows(ApiError.class, () -> parse(body));
    assertEquals(400, e.status);
    assertEquals(field, e.param);
    assertTrue(e.getMessage().contains(field), e.getMessage());
    assertEquals(field, e.toJson().path("error").path("param").asText());
  }

  @Test
  void chatNeedsMessagesAndRefusesTools() throws Exception {
    ApiError e =
        assertThrows(ApiError.class, () -> parser.parse(JSON.readTree("{\"model\": \"m\"}"), true));
    assertEquals("messages", e.param);
    e =
        assertThrows(
            ApiError.class,
            () ->
                parser.parse(
                    JSON.readTree(
                        "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\":"
                            + " \"hi\"}], \"tools\": [{}]}"),
                    true));
    assertEquals("tools", e.param);
    GenerationRequest r =
        parser.parse(
            JSON.readTree(
                "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}],"
                    + " \"logprobs\": true, \"top_logprobs\": 3}"),
            true);
    assertEquals(3, r.logprobs());
    assertEquals(256, r.maxTokens());
  }
}
