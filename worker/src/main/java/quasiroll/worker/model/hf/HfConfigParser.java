package quasiroll.worker.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.ModelConfig;

/**
 * Reads a HF {@code config.json} of a Llama or Qwen2 decoder into a {@link ModelConfig}. Supported:
 * model_type "llama" (LlamaForCausalLM) and "qwen2" (Qwen2ForCausalLM); rope scaling none/"default"
 * or "llama3"; hidden_act "silu"; no mlp_bias; Qwen2 without sliding window attention. Anything
 * else is refused by name.
 */
public final class HfConfigParser {
  public static final String SUPPORTED_ARCHITECTURES =
      "llama (LlamaForCausalLM), qwen2 (Qwen2ForCausalLM)";

  private HfConfigParser() {}

  /** BOS/EOS as config.json states them (tokenizer files may add to them). */
  public record SpecialIds(int bos, Set<Integer> eos) {}

  public static ModelConfig parse(Path file, JsonNode c, int bos, Set<Integer> eos) {
    String arch = c.path("model_type").asText("");
    if (arch.isEmpty()) {
      // configs without model_type name only the class
      String cls = c.path("architectures").path(0).asText("");
      arch =
          cls.equals("LlamaForCausalLM") ? "llama" : cls.equals("Qwen2ForCausalLM") ? "qwen2" : "";
    }
    if (!arch.equals("llama") && !arch.equals("qwen2")) {
      String archs = c.path("architectures").toString();
      throw new BadInputException(
          file
              + ": model_type '"
              + arch
              + "' (architectures "
              + archs
              + ") is not supported"
              + " (supported: "
              + SUPPORTED_ARCHITECTURES
              + ")");
    }
    String act = c.path("hidden_act").asText("silu");
    if (!act.equals("silu")) {
      throw new BadInputException(
          file + ": hidden_act '" + act + "' is not supported (supported: silu)");
    }
    if (c.path("mlp_bias").asBoolean(false)) {
      throw new BadInputException(file + ": mlp_bias=true is not supported (supported: false)");
    }
    if (arch.equals("qwen2") && c.path("use_sliding_window").asBoolean(false)) {
      throw new BadInputException(
          file + ": use_sliding_window=true is not supported (supported: false)");
    }
    int hidden = requireInt(file, c, "hidden_size");
    int heads = requireInt(file, c, "num_attention_heads");
    int kvHeads = c.path("num_key_value_heads").asInt(heads);
    int headDim = c.hasNonNull("head_dim") ? c.get("head_dim").asInt() : hidden / heads;
    if (heads % kvHeads != 0) {
      throw new BadInputException(
          file
              + ": num_attention_heads "
              + heads
              + " is not a multiple of num_key_value_heads "
              + kvHeads);
    }
    if (headDim % 2 != 0) {
      throw new BadInputException(file + ": head_dim " + headDim + " must be even for RoPE");
    }
    boolean qkvBias = arch.equals("qwen2") || c.path("attention_bias").asBoolean(false);
    return new ModelConfig(
        arch,
        requireInt(file, c, "vocab_size"),
        hidden,
        requireInt(file, c, "intermediate_size"),
        requireInt(file, c, "num_hidden_layers"),
        heads,
        kvHeads,
        headDim,
        c.path("max_position_embeddings").asInt(2048),
        ropeTheta(c),
        ropeScaling(
            file, c.has("rope_scaling") ? c.path("rope_scaling") : c.path("rope_parameters")),
        c.path("rms_norm_eps").asDouble(1e-6),
        qkvBias,
        c.path("tie_word_embeddings").asBoolean(false),
        bos,
        Set.copyOf(eos));
  }

  /**
   * rope_theta at the top level (transformers 4.x and the hub's checkpoints) or, as transformers 5
   * writes config.json, inside {@code rope_parameters}; 10000 when absent.
   */
  private static double ropeTheta(JsonNode c) {
    if (c.has("rope_theta")) {
      return c.path("rope_theta").asDouble();
    }
    return c.path("rope_parameters").path("rope_theta").asDouble(10000.0);
  }

  /** bos_token_id and eos_token_id (a number or a list) of config.json or generation_config. */
  public static SpecialIds specialIds(JsonNode c) {
    int bos = c.path("bos_token_id").asInt(-1);
    Set<Integer> eos = new LinkedHashSet<>();
    JsonNode e = c.path("eos_token_id");
    if (e.isArray()) {
      e.forEach(x -> eos.add(x.asInt()));
    } else if (e.isNumber()) {
      eos.add(e.asInt());
    }
    return new SpecialIds(bos, eos);
  }

  private static ModelConfig.RopeScaling ropeScaling(Path file, JsonNode r) {
    if (r.isMissingNode() || r.isNull()) {
      return null;
    }
    String type = r.path("rope_type").asText(r.path("type").asText(""));
    if (type.equals("default")) {
      return null;
    }
    if (!type.equals("llama3")) {
      throw new BadInputException(
          file
              + ": rope_scaling type '"
              + type
              + "' is not supported (supported: none,"
              + " default, llama3)");
    }
    return new ModelConfig.RopeScaling(
        requireDouble(file, r, "factor"),
        requireDouble(file, r, "low_freq_factor"),
        requireDouble(file, r, "high_freq_factor"),
        requireInt(file, r, "original_max_position_embeddings"));
  }

  private static int requireInt(Path file, JsonNode c, String key) {
    JsonNode v = c.get(key);
    if (v == null || !v.canConvertToInt() || v.asInt() <= 0) {
      throw new BadInputException(file + ": '" + key + "' is missing or not a positive integer");
    }
    return v.asInt();
  }

  private static double requireDouble(Path file, JsonNode c, String key) {
    JsonNode v = c.get(key);
    if (v == null || !v.isNumber()) {
      throw new BadInputException(file + ": rope_scaling '" + key + "' is missing or not a number");
    }
    return v.asDouble();
  }
}
