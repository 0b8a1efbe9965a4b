package quasiroll.worker.runtime.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import quasiroll.worker.model.ModelConfig;

/**
 * The Llama/Qwen2 forward pass as a sequence of kernel launches on the default stream: one call
 * runs a set of rows (prompt chunk or one token per sequence) through every layer and, for the rows
 * asked for, the final norm and LM head. Stateless apart from the weights: the KV cache and
 * activations belong to the session ({@link CudaDecodeSession.Buffers}).
 */
final class CudaTransformer {
  private static final int GRID_STRIDE_BLOCKS = 1024;

  private final CudaDevice device;
  private final ModelConfig config;
  private final CudaWeights weights;
  private final CUfunction embed;
  private final CUfunction rmsnorm;
  private final CUfunction rope;
  private final CUfunction attention;
  private final CUfunction swiglu;
  private final CudaMatmul matmul;

  CudaTransformer(CudaDevice device, ModelConfig config, CudaWeights weights) {
    this.device = device;
    this.config = config;
    this.weights = weights;
    String embedKernel =
        switch (weights.embed.dtype()) {
          case BF16 -> "embed_bf16";
          case F16 -> "embed_f16";
          default -> "embed_f32";
        };
    this.embed = device.function("transformer", embedKernel);
    this.rmsnorm = device.function("transformer", "rmsnorm");
    this.rope = device.function("transformer", "rope_store_kv");
    this.attention = device.function("transformer", "attention");
    this.swiglu = device.function("transformer", "swiglu");
    this.matmul = new CudaMatmul(device);
  }

  /**
   * Runs {@code rows} rows whose token/position/sequence ids are already in {@code
   * b.tokens/b.positions/b.sequences}. Writes logits for rows [headFrom, rows) to {@code b.logits}
   * rows [0, rows - headFrom); headFrom == rows skips the LM head.
   */
  void forward(CudaDecodeSession.Buffers b, int rows, int headFrom) {
    ModelConfig c = config;
    int h = c.hiddenSize();
    int nh = c.numHeads();
    int nkv = c.numKvHeads();
    int hd = c.headDim();
    device.launch(embed, rows, 1, 1, 256, b.tokens, weights.embed.ptr(), b.hidden, h);
    for (int l = 0; l < weights.layers.length; l++) {
      CudaWeights.Layer w = weights.layers[l];
      device.launch(
          rmsnorm, rows, 1, 1, 256, b.hidden, w.inputNorm(), b.normed, h, (float) c.rmsNormEps());
      matmul.run(b.normed, w.qkv(), b.qkv, w.qkvBias(), rows, false, b.partial);
      device.launch(
          rope,
          rows,
          nh + nkv,
          1,
          hd / 2,
          b.qkv,
          b.positions,
          b.sequences,
          weights.ropeCos,
          weights.ropeSin,
          nh,
          nkv,
          hd,
          b.kPrefix[l],
          b.vPrefix[l],
          b.kSeq[l],
          b.vSeq[l],
          b.prefixLength,
          b.maxNewTokens);
      device.launch(
          attention,
          rows,
          nh,
          1,
          128,
          b.qkv,
          b.positions,
          b.sequences,
          b.kPrefix[l],
          b.vPrefix[l],
          b.kSeq[l],
          b.vSeq[l],
          b.attn,
          nh,
          nkv,
          hd,
          b.prefixLength,
          b.maxNewTokens,
          (float) (1.0 / Math.sqrt(hd)));
      matmul.run(b.attn, w.o(), b.hidden, null, rows, true, b.partial);
      device.launch(
          rmsnorm, rows, 1, 1, 256, b.hidden, w.postNorm(), b.normed, h, (float) c.rmsNormEps());
      matmul.run(b.normed, w.gateUp(), b.gateUp, null, rows, false, b.partial);
      device.launch(
          swiglu,
          gridStride((long) rows * c.intermediateSize()),
          1,
          1,
          256,
          b.gateUp,
          b.act,
          rows,
          c.intermediateSize());
      matmul.run(b.act, w.down(), b.hidden, null, rows, true, b.partial);
    }
    int headRows = rows - headFrom;
    if (headRows > 0) {
      CUdeviceptr from = b.hidden.withByteOffset((long) headFrom * h * Float.BYTES);
      device.launch(
          rmsnorm,
          headRows,
          1,
          1,
          256,
          from,
          weights.finalNorm,
          b.normed,
          h,
          (float) c.rmsNormEps());
      matmul.run(b.normed, weights.lmHead, b.logits, null, headRows, false, b.partial);
    }
  }

  static int gridStride(long elements) {
    return (int) Math.max(1, Math.min(GRID_STRIDE_BLOCKS, (elements + 255) / 256));
  }
}
