package quasiroll.worker.model;

import java.util.Set;

/**
 * Architecture hyper-parameters of a Llama/Qwen2-family decoder, from HF config.json or GGUF
 * metadata.
 *
 * @param architecture "llama" or "qwen2"
 * @param ropeScaling null, or Llama-3 style {@code rope_scaling} (type "llama3")
 * @param qkvBias q/k/v projections have biases (Qwen2)
 * @param tiedEmbeddings the LM head reuses the token embedding matrix
 */
public record ModelConfig(
    String architecture,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int contextLength,
    double ropeTheta,
    RopeScaling ropeScaling,
    double rmsNormEps,
    boolean qkvBias,
    boolean tiedEmbeddings,
    int bosTokenId,
    Set<Integer> eosTokenIds) {

  /** Llama 3.1 style frequency scaling ({@code rope_type: llama3}). */
  public record RopeScaling(
      double factor, double lowFreqFactor, double highFreqFactor, int originalContextLength) {}

  /** KV-cache bytes per token per sequence, for f32 cache entries. */
  public long kvBytesPerToken() {
    return 2L * numLayers * numKvHeads * headDim * Float.BYTES;
  }
}
