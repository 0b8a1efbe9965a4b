package quasiroll.worker.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import quasiroll.common.error.BadInputException;

/**
 * The tensors a Llama/Qwen2 decoder has, with their PyTorch shapes; the names themselves are {@link
 * WeightNames}'. Both loaders produce exactly these (GGUF names are mapped), so the forward pass
 * reads weights by these names whatever the file format was.
 */
public final class ModelTensors {
  private ModelTensors() {}

  public static final String EMBED = WeightNames.EMBED;
  public static final String FINAL_NORM = WeightNames.FINAL_NORM;
  public static final String LM_HEAD = WeightNames.LM_HEAD;

  /**
   * e.g. {@code layer(3, "self_attn.q_proj.weight")} = "model.layers.3.self_attn.q_proj.weight".
   */
  public static String layer(int i, String suffix) {
    return WeightNames.layer(i, suffix);
  }

  /** Every tensor the config implies, with its shape, in file order. */
  public static Map<String, long[]> expected(ModelConfig c) {
    Map<String, long[]> m = new LinkedHashMap<>();
    long h = c.hiddenSize();
    long q = (long) c.numHeads() * c.headDim();
    long kv = (long) c.numKvHeads() * c.headDim();
    long f = c.intermediateSize();
    m.put(EMBED, new long[] {c.vocabSize(), h});
    for (int i = 0; i < c.numLayers(); i++) {
      m.put(WeightNames.inputNorm(i), new long[] {h});
      m.put(WeightNames.attention(i, 'q'), new long[] {q, h});
      m.put(WeightNames.attention(i, 'k'), new long[] {kv, h});
      m.put(WeightNames.attention(i, 'v'), new long[] {kv, h});
      if (c.qkvBias()) {
        m.put(WeightNames.attentionBias(i, 'q'), new long[] {q});
        m.put(WeightNames.attentionBias(i, 'k'), new long[] {kv});
        m.put(WeightNames.attentionBias(i, 'v'), new long[] {kv});
      }
      m.put(WeightNames.attention(i, 'o'), new long[] {h, q});
      m.put(WeightNames.postAttentionNorm(i), new long[] {h});
      m.put(WeightNames.mlp(i, "gate"), new long[] {f, h});
      m.put(WeightNames.mlp(i, "up"), new long[] {f, h});
      m.put(WeightNames.mlp(i, "down"), new long[] {h, f});
    }
    m.put(FINAL_NORM, new long[] {h});
    if (!c.tiedEmbeddings()) {
      m.put(LM_HEAD, new long[] {c.vocabSize(), h});
    }
    return m;
  }

  /** Checks that every expected tensor is present with its expected shape. */
  public static void validate(ModelConfig c, Map<String, TensorData> tensors, Object source) {
    for (Map.Entry<String, long[]> e : expected(c).entrySet()) {
      TensorData t = tensors.get(e.getKey());
      if (t == null) {
        throw new BadInputException(
            source + ": tensor '" + e.getKey() + "' is missing (the config implies it)");
      }
      if (!Arrays.equals(t.shape(), e.getValue())) {
        throw new BadInputException(
            source
                + ": tensor '"
                + e.getKey()
                + "' has shape "
                + Arrays.toString(t.shape())
                + " but the config implies "
                + Arrays.toString(e.getValue()));
      }
    }
  }
}
