package quasiroll.worker.model.gguf;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import quasiroll.worker.model.ModelTensors;

/**
 * llama.cpp tensor names (gguf-py constants.py, MODEL_TENSOR names for LLAMA/QWEN2) to and from HF
 * names. Names with no HF counterpart (e.g. {@code rope_freqs.weight}) keep their GGUF name.
 */
public final class GgufTensorNames {
  private GgufTensorNames() {}

  public static final String ROPE_FREQS = "rope_freqs.weight";

  private static final Map<String, String> GLOBAL =
      Map.of(
          "token_embd", "model.embed_tokens",
          "output_norm", "model.norm",
          "output", "lm_head");

  private static final Map<String, String> BLOCK =
      Map.of(
          "attn_norm", "input_layernorm",
          "attn_q", "self_attn.q_proj",
          "attn_k", "self_attn.k_proj",
          "attn_v", "self_attn.v_proj",
          "attn_output", "self_attn.o_proj",
          "ffn_norm", "post_attention_layernorm",
          "ffn_gate", "mlp.gate_proj",
          "ffn_up", "mlp.up_proj",
          "ffn_down", "mlp.down_proj");

  private static final Pattern GGUF_BLOCK =
      Pattern.compile("blk\\.(\\d+)\\.(\\w+)\\.(weight|bias)");
  private static final Pattern GGUF_GLOBAL = Pattern.compile("(\\w+)\\.(weight|bias)");
  private static final Pattern HF_BLOCK =
      Pattern.compile("model\\.layers\\.(\\d+)\\.([\\w.]+)\\.(weight|bias)");

  public static String toHf(String gguf) {
    Matcher m = GGUF_BLOCK.matcher(gguf);
    if (m.matches() && BLOCK.containsKey(m.group(2))) {
      return ModelTensors.layer(
          Integer.parseInt(m.group(1)), BLOCK.get(m.group(2)) + "." + m.group(3));
    }
    m = GGUF_GLOBAL.matcher(gguf);
    if (m.matches() && GLOBAL.containsKey(m.group(1))) {
      return GLOBAL.get(m.group(1)) + "." + m.group(2);
    }
    return gguf;
  }

  public static String toGguf(String hf) {
    Matcher m = HF_BLOCK.matcher(hf);
    if (m.matches()) {
      for (Map.Entry<String, String> e : BLOCK.entrySet()) {
        if (e.getValue().equals(m.group(2))) {
          return "blk." + m.group(1) + "." + e.getKey() + "." + m.group(3);
        }
      }
    }
    for (Map.Entry<String, String> e : GLOBAL.entrySet()) {
      if (hf.equals(e.getValue() + ".weight")) {
        return e.getKey() + ".weight";
      }
    }
    throw new IllegalArgumentException("no GGUF name for HF tensor " + hf);
  }
}
