package quasiroll.worker.runtime.cpu;

/**
 * Input vectors quantized to int8 blocks, as ggml quantizes activations before a quantized product,
 * so quasiroll's quantized logits follow llama.cpp's numerics rather than those of f32 activations:
 *
 * <ul>
 *   <li>{@link #quantize} (Q8_0, for Q8_0 and Q4_0 weights; quantize_row_q8_0, AVX2 path): per
 *       block of 32, amax = max|x|, d = amax / 127 stored as f16, q = round-half-even(x * 127 /
 *       amax).
 *   <li>{@link #quantizeK} (Q8_K, for Q4_K and Q6_K weights; quantize_row_q8_K_ref): per block of
 *       256, m = the value of largest magnitude (sign kept), iscale = -127 / m, q = min(127,
 *       round-half-even(iscale * x)), d = 1 / iscale as f32 (not rounded to f16), and the integer
 *       sums of q over each 16 values ({@link #bsums}).
 * </ul>
 *
 * <p>q is kept as integer-valued floats: a block's products and their sums stay below 2^24, so they
 * are exact in float in any order.
 */
final class Q8Activations {
  static final int BLOCK = 32;
  static final int BLOCK_K = 256;

  /** batch x cols integer values in [-127, 127]. */
  final float[] q;

  /** batch x (cols / blockSize) block scales. */
  final float[] d;

  /** Q8_K only: batch x (cols / 16) sums of q over 16 consecutive values; else null. */
  final int[] bsums;

  /** Q8_K only: the sums of q over each 32 values (two consecutive bsums added); else null. */
  final int[] bsums32;

  /** q as 16-bit integers, for the kernels that multiply in 16-bit lanes. */
  final short[] qs;

  final int blockSize;

  private Q8Activations(float[] q, float[] d, int[] bsums, int blockSize) {
    this.q = q;
    this.qs = new short[q.length];
    for (int i = 0; i < q.length; i++) {
      qs[i] = (short) q[i];
    }
    this.d = d;
    this.bsums = bsums;
    if (bsums == null) {
      this.bsums32 = null;
    } else {
      this.bsums32 = new int[bsums.length / 2];
      for (int i = 0; i < bsums32.length; i++) {
        bsums32[i] = bsums[2 * i] + bsums[2 * i + 1];
      }
    }
    this.blockSize = blockSize;
  }

  /** Q8_0 blocks of 32. */
  static Q8Activations quantize(float[] x, int batch, int cols) {
    int blocks = batch * cols / BLOCK;
    float[] q = new float[batch * cols];
    float[] d = new float[blocks];
    for (int blk = 0; blk < blocks; blk++) {
      int o = blk * BLOCK;
      float amax = 0f;
      for (int i = 0; i < BLOCK; i++) {
        amax = Math.max(amax, Math.abs(x[o + i]));
      }
      // Float's conversions are intrinsics (HalfFloats' were 7% of a Q8_0 decode step); both
      // round to nearest even (Q8ActivationsTest checks they agree).
      d[blk] = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
      float id = amax != 0f ? 127f / amax : 0f;
      for (int i = 0; i < BLOCK; i++) {
        q[o + i] = (float) Math.rint(x[o + i] * id);
      }
    }
    return new Q8Activations(q, d, null, BLOCK);
  }

  /** Q8_K blocks of 256 (cols a multiple of 256). */
  static Q8Activations quantizeK(float[] x, int batch, int cols) {
    int blocks = batch * cols / BLOCK_K;
    float[] q = new float[batch * cols];
    float[] d = new float[blocks];
    int[] bsums = new int[batch * cols / 16];
    for (int blk = 0; blk < blocks; blk++) {
      int o = blk * BLOCK_K;
      float amax = 0f;
      float max = 0f;
      for (int i = 0; i < BLOCK_K; i++) {
        float ax = Math.abs(x[o + i]);
        if (ax > amax) {
          amax = ax;
          max = x[o + i];
        }
      }
      if (amax == 0f) {
        continue; // d = 0, q = 0, bsums = 0
      }
      float iscale = -127f / max;
      for (int i = 0; i < BLOCK_K; i++) {
        int v = Math.min(127, (int) Math.rint(iscale * x[o + i]));
        q[o + i] = v;
        bsums[(o + i) / 16] += v;
      }
      d[blk] = 1 / iscale;
    }
    return new Q8Activations(q, d, bsums, BLOCK_K);
  }
}
