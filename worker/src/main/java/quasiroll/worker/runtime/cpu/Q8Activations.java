package quasiroll.worker.runtime.cpu;

import quasiroll.worker.model.HalfFloats;

/**
 * Input vectors quantized to Q8_0 blocks, as ggml quantizes activations before a Q8_0 or Q4_0
 * product (quantize_row_q8_0, AVX2 path): per block of 32, amax = max|x|, d = amax / 127
 * stored as f16, q = round-half-even(x * 127 / amax). Quantized products are
 * sum over blocks of (integer dot of the block) * d_weight * d_input, so quasiroll's Q8_0/Q4_0
 * logits follow llama.cpp's numerics rather than those of f32 activations.
 *
 * <p>q is kept as integer-valued floats: a block's products and their sums stay below 2^24,
 * so they are exact in float in any order.
 */
final class Q8Activations {
  static final int BLOCK = 32;

  /** batch x cols integer values in [-127, 127]. */
  final float[] q;
  /** batch x (cols / 32) block scales (the f16 value, as float). */
  final float[] d;

  private Q8Activations(float[] q, float[] d) {
    this.q = q;
    this.d = d;
  }

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
      d[blk] = HalfFloats.f16ToFloat(HalfFloats.floatToF16(amax / 127f));
      float id = amax != 0f ? 127f / amax : 0f;
      for (int i = 0; i < BLOCK; i++) {
        q[o + i] = (float) Math.rint(x[o + i] * id);
      }
    }
    return new Q8Activations(q, d);
  }
}
