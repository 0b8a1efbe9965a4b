package quasiroll.worker.runtime.cpu;

import quasiroll.worker.model.TensorData;

/**
 * GGUF Q8_0 weights: blocks of 32 values, each block an f16 scale d followed by 32 int8 q;
 * value = q * d (ggml's dequantize_row_q8_0).
 */
final class Q8Matrix extends WeightMatrix {
  private static final int BLOCK = 32;
  private static final int BLOCK_BYTES = 34;

  Q8Matrix(TensorData t) {
    super(t);
  }

  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    int blocks = n * cols / BLOCK;
    int base = row * (cols / BLOCK) * BLOCK_BYTES;
    for (int b = 0; b < blocks; b++) {
      int off = base + b * BLOCK_BYTES;
      float d = Half.toFloat(data.getShort(off));
      int o = dstOff + b * BLOCK;
      for (int i = 0; i < BLOCK; i++) {
        dst[o + i] = data.get(off + 2 + i) * d;
      }
    }
  }
}
