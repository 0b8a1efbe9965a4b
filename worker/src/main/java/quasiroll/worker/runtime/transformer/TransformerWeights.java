package quasiroll.worker.runtime.transformer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.TensorData;

/**
 * The tensors of a Llama/Qwen2 decoder, found by their Hugging Face names and checked against
 * the config's shapes. Loaders map GGUF names to these names, so every backend walks the same
 * structure: embedding, {@code numLayers} x (attention, SwiGLU MLP), final norm, LM head.
 */
public record TransformerWeights(
    TensorData embedding, List<Layer> layers, TensorData finalNorm, TensorData lmHead) {

  /** One decoder layer; the biases are null unless the config says {@code qkvBias}. */
  public record Layer(
      TensorData attentionNorm,
      TensorData q,
      TensorData k,
      TensorData v,
      TensorData qBias,
      TensorData kBias,
      TensorData vBias,
      TensorData o,
      TensorData mlpNorm,
      TensorData gate,
      TensorData up,
      TensorData down) {}

  public static final String EMBEDDING = "model.embed_tokens.weight";
  public static final String FINAL_NORM = "model.norm.weight";
  public static final String LM_HEAD = "lm_head.weight";

  /**
   * @throws BadInputException naming the tensor when one is missing or has the wrong shape
   */
  public static TransformerWeights resolve(ModelConfig c, Map<String, TensorData> tensors) {
    Lookup t = new Lookup(tensors);
    int h = c.hiddenSize();
    int qDim = c.numHeads() * c.headDim();
    int kvDim = c.numKvHeads() * c.headDim();
    if (c.numHeads() % c.numKvHeads() != 0) {
      throw new BadInputException(
          "num_attention_heads " + c.numHeads() + " is not a multiple of num_key_value_heads "
              + c.numKvHeads() + "; grouped-query attention needs it to be");
    }
    if (c.headDim() % 2 != 0) {
      throw new BadInputException("head_dim " + c.headDim() + " must be even for rotary embeddings");
    }
    TensorData embedding = t.get(EMBEDDING, c.vocabSize(), h);
    List<Layer> layers = new ArrayList<>();
    for (int i = 0; i < c.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      layers.add(
          new Layer(
              t.get(p + "input_layernorm.weight", h),
              t.get(p + "self_attn.q_proj.weight", qDim, h),
              t.get(p + "self_attn.k_proj.weight", kvDim, h),
              t.get(p + "self_attn.v_proj.weight", kvDim, h),
              c.qkvBias() ? t.get(p + "self_attn.q_proj.bias", qDim) : null,
              c.qkvBias() ? t.get(p + "self_attn.k_proj.bias", kvDim) : null,
              c.qkvBias() ? t.get(p + "self_attn.v_proj.bias", kvDim) : null,
              t.get(p + "self_attn.o_proj.weight", h, qDim),
              t.get(p + "post_attention_layernorm.weight", h),
              t.get(p + "mlp.gate_proj.weight", c.intermediateSize(), h),
              t.get(p + "mlp.up_proj.weight", c.intermediateSize(), h),
              t.get(p + "mlp.down_proj.weight", h, c.intermediateSize())));
    }
    TensorData finalNorm = t.get(FINAL_NORM, h);
    TensorData lmHead =
        c.tiedEmbeddings() && !tensors.containsKey(LM_HEAD)
            ? embedding
            : t.get(LM_HEAD, c.vocabSize(), h);
    return new TransformerWeights(embedding, List.copyOf(layers), finalNorm, lmHead);
  }

  /** Bytes of all distinct tensors (a tied LM head counts once). */
  public long bytes() {
    long n = embedding.data().capacity() + finalNorm.data().capacity();
    if (lmHead != embedding) {
      n += lmHead.data().capacity();
    }
    for (Layer l : layers) {
      for (TensorData d :
          new TensorData[] {
            l.attentionNorm, l.q, l.k, l.v, l.qBias, l.kBias, l.vBias, l.o, l.mlpNorm, l.gate,
            l.up, l.down
          }) {
        if (d != null) {
          n += d.data().capacity();
        }
      }
    }
    return n;
  }

  private record Lookup(Map<String, TensorData> tensors) {
    TensorData get(String name, long... shape) {
      TensorData d = tensors.get(name);
      if (d == null) {
        throw new BadInputException(
            "model has no tensor '" + name + "' (expected shape " + Arrays.toString(shape)
                + "); a Llama/Qwen2 checkpoint with Hugging Face tensor names is required");
      }
      if (!Arrays.equals(d.shape(), shape)) {
        throw new BadInputException(
            "tensor '" + name + "' has shape " + Arrays.toString(d.shape()) + " but the config "
                + "implies " + Arrays.toString(shape));
      }
      if (d.data().capacity() < d.dtype().bytesFor(d.elements())) {
        throw new BadInputException(
            "tensor '" + name + "' holds " + d.data().capacity() + " bytes but " + d.dtype() + " "
                + Arrays.toString(shape) + " needs " + d.dtype().bytesFor(d.elements()));
      }
      return d;
    }
  }
}
