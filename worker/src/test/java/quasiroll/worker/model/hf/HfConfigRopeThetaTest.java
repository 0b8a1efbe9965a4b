package quasiroll.worker.model.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import quasiroll.worker.model.ModelConfig;

/**
 * transformers 5 writes rope_theta (and any scaling) inside "rope_parameters" instead of at the top
 * level; reading only the top level silently gave theta 10000 for such a Qwen2 model (found by
 * deploy/gpu-check.sh: logits far from transformers' while CPU and GPU agreed).
 */
class HfConfigRopeThetaTest {
  private static final String BASE =
      "\"model_type\":\"qwen2\",\"vocab_size\":300,\"hidden_size\":64,"
          + "\"intermediate_size\":128,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
          + "\"num_key_value_heads\":2";

  private static ModelConfig parse(String json) throws Exception {
    JsonNode c = new ObjectMapper().readTree(json);
    return HfConfigParser.parse(Path.of("config.json"), c, -1, Set.of());
  }

  @Test
  void readsThetaFromTransformers5RopeParameters() throws Exception {
    ModelConfig c =
        parse(
            "{"
                + BASE
                + ",\"rope_parameters\":{\"rope_theta\":1000000.0,\"rope_type\":\"default\"}}");
    assertEquals(1_000_000.0, c.ropeTheta());
    assertNull(c.ropeScaling());
  }

  @Test
  void topLevelThetaStillWins() throws Exception {
    assertEquals(500_000.0, parse("{" + BASE + ",\"rope_theta\":500000.0}").ropeTheta());
    assertEquals(10_000.0, parse("{" + BASE + "}").ropeTheta());
  }

  @Test
  void llama3ScalingInsideRopeParameters() throws Exception {
    ModelConfig c =
        parse(
            "{"
                + BASE
                + ",\"rope_parameters\":{\"rope_theta\":500000.0,"
                + "\"rope_type\":\"llama3\",\"factor\":8.0,\"low_freq_factor\":1.0,"
                + "\"high_freq_factor\":4.0,\"original_max_position_embeddings\":8192}}");
    assertEquals(500_000.0, c.ropeTheta());
    assertEquals(8.0, c.ropeScaling().factor());
    assertEquals(8192, c.ropeScaling().originalContextLength());
  }
}
