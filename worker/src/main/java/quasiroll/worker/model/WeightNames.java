package quasiroll.worker.model;

/**
 * The HF (safetensors) tensor names of a Llama/Qwen2-family decoder, the one place both backends
 * look weights up by. GGUF loaders rename to these on load.
 */
public final class WeightNames {
  private WeightNames() {}

  public static final String EMBED = "model.embed_tokens.weight";
  public static final String FINAL_NORM = "model.norm.weight";

  /** Absent when the config has tied embeddings: the LM head is {@link #EMBED}. */
  public static final String LM_HEAD = "lm_head.weight";

  public static String layer(int layer, String suffix) {
    return "model.layers." + layer + "." + suffix;
  }

  public static String inputNorm(int layer) {
    return layer(layer, "input_layernorm.weight");
  }

  public static String postAttentionNorm(int layer) {
    return layer(layer, "post_attention_layernorm.weight");
  }

  /** proj is one of q, k, v, o. */
  public static String attention(int layer, char proj) {
    return layer(layer, "self_attn." + proj + "_proj.weight");
  }

  /** proj is one of q, k, v (Qwen2 has q/k/v biases). */
  public static String attentionBias(int layer, char proj) {
    return layer(layer, "self_attn." + proj + "_proj.bias");
  }

  /** proj is one of gate, up, down. */
  public static String mlp(int layer, String proj) {
    return layer(layer, "mlp." + proj + "_proj.weight");
  }

  /** The LM head's tensor name under this config. */
  public static String lmHead(ModelConfig config) {
    return config.tiedEmbeddings() ? EMBED : LM_HEAD;
  }
}
