package quasiroll.worker.runtime.cuda;

import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.ModelConfig;

/**
 * Device memory of a model and of one decode session, computed up front from the shapes alone
 * (before anything is allocated), so that a model or a shard that does not fit is refused with the
 * numbers instead of failing halfway with an out-of-memory error.
 *
 * <p>Layout it mirrors (CudaWeights, CudaDecodeSession): matrices in 16 bits (F32 matrices are
 * converted to BF16); the token embedding as stored (an F32 table tied to the LM head also gets a
 * BF16 copy for the head); norms and biases in f32; q/k/v fused into one matrix, gate/up into one.
 * KV cache in f32: the prompt once, plus maxNewTokens per sequence.
 */
final class CudaMemoryBudget {
  /** Kept free for the driver, the JIT-compiled modules and fragmentation. */
  static final long RESERVE_BYTES = 512L << 20;

  /** Prompt rows per prefill pass: bounds the prefill activations for long prompts. */
  static final int PREFILL_CHUNK = 512;

  private CudaMemoryBudget() {}

  /** Bytes of the weights on the device; {@code embedType} is the stored embedding type. */
  static long weightBytes(ModelConfig c, DType embedType) {
    long h = c.hiddenSize();
    long v = c.vocabSize();
    long qkv = (long) (c.numHeads() + 2 * c.numKvHeads()) * c.headDim();
    long attnOut = (long) c.numHeads() * c.headDim();
    long inter = c.intermediateSize();
    long embed = v * h * (embedType == DType.F32 ? 4 : 2);
    long head = c.tiedEmbeddings() && embedType != DType.F32 ? 0 : v * h * 2;
    long perLayer =
        2 * h * 4 // two norms
            + qkv * h * 2
            + (c.qkvBias() ? qkv * 4 : 0)
            + h * attnOut * 2
            + 2 * inter * h * 2
            + h * inter * 2;
    return embed + head + h * 4 + perLayer * c.numLayers() + ropeBytes(c);
  }

  /** cos and sin tables for every position of the context. */
  static long ropeBytes(ModelConfig c) {
    return 2L * c.contextLength() * (c.headDim() / 2) * Float.BYTES;
  }

  /** Rows one forward pass holds at most: a prefill chunk or the whole batch. */
  static int maxRows(int promptTokens, int maxSequences) {
    return Math.max(Math.min(promptTokens, PREFILL_CHUNK), maxSequences);
  }

  static long kvBytes(ModelConfig c, int promptTokens, int maxSequences, int maxNewTokens) {
    long tokens = promptTokens + (long) maxSequences * maxNewTokens;
    return c.kvBytesPerToken() * tokens;
  }

  /** Activations, split-K partial sums, logits and the sampler's per-row outputs. */
  static long activationBytes(ModelConfig c, int promptTokens, int maxSequences) {
    long rows = maxRows(promptTokens, maxSequences);
    long h = c.hiddenSize();
    long qkv = (long) (c.numHeads() + 2 * c.numKvHeads()) * c.headDim();
    long attnOut = (long) c.numHeads() * c.headDim();
    long inter = c.intermediateSize();
    long perRow = 2 * h + qkv + attnOut + 2 * inter + inter;
    long partial = maxPartialFloats(c, (int) rows);
    long logits = (long) Math.max(1, maxSequences) * c.vocabSize();
    long rowInfo = 3 * rows * Integer.BYTES;
    long sampler =
        (long) maxSequences * (8 + 4 + 8 + 8 + 8 + 8); // code, token, lo, width, 2 doubles
    return (rows * perRow + partial + logits) * Float.BYTES + rowInfo + sampler;
  }

  static long maxPartialFloats(ModelConfig c, int rows) {
    int h = c.hiddenSize();
    int qkv = (c.numHeads() + 2 * c.numKvHeads()) * c.headDim();
    int attnOut = c.numHeads() * c.headDim();
    int inter = c.intermediateSize();
    long m = MatmulPlan.of(rows, qkv, h).partialFloats();
    m = Math.max(m, MatmulPlan.of(rows, h, attnOut).partialFloats());
    m = Math.max(m, MatmulPlan.of(rows, 2 * inter, h).partialFloats());
    m = Math.max(m, MatmulPlan.of(rows, h, inter).partialFloats());
    m = Math.max(m, MatmulPlan.of(Math.max(1, rows), c.vocabSize(), h).partialFloats());
    return m;
  }

  static long sessionBytes(ModelConfig c, int promptTokens, int maxSequences, int maxNewTokens) {
    return kvBytes(c, promptTokens, maxSequences, maxNewTokens)
        + activationBytes(c, promptTokens, maxSequences);
  }

  /** Refuses, with the numbers, when {@code needed} does not fit in {@code freeBytes}. */
  static void requireFits(String what, long needed, long freeBytes, String device, String hint) {
    if (needed + RESERVE_BYTES > freeBytes) {
      throw new BadInputException(
          what
              + " needs "
              + mib(needed)
              + " MiB of device memory (+ "
              + mib(RESERVE_BYTES)
              + " MiB reserve) but "
              + device
              + " has "
              + mib(freeBytes)
              + " MiB free; "
              + hint);
    }
  }

  static long mib(long bytes) {
    return (bytes + (1 << 20) - 1) >> 20;
  }
}
