package quasiroll.worker.runtime.cpu;

import quasiroll.worker.model.TensorData;

/**
 * GGUF Q4_0 weights: blocks of 32 values, each an f16 scale d then 16 bytes; byte j holds
 * element j in its low nibble and element j+16 in its high nibble; value = (nibble - 8) * d
 * (ggml's dequantize_row_q4_0).
 */
final class Q4Matrix extends WeightMatrix {
  private static final int BLOCK = 32;
  private static final int BLOCK_BYTES = 18;

  Q4Matrix(TensorData t) {
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
      for (int j = 0; j < 16; j++) {
        int q = data.get(off + 2 + j) & 0xff;
        dst[o + j] = ((q & 0x0f) - 8) * d;
        dst[o + j + 16] = ((q >>> 4) - 8) * d;
      }
    }
  }
}
