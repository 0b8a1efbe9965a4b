package quasiroll.worker.runtime.cpu;

import quasiroll.worker.model.DType;
import quasiroll.worker.model.TensorData;

/**
 * GGUF Q8_0 weights: blocks of 32 values, each block an f16 scale d followed by 32 int8 q;
 * value = q * d (ggml's dequantize_row_q8_0).
 */
final class Q8Matrix extends QuantizedMatrix {
  private static final int BLOCK_BYTES = DType.Q8_0.blockBytes();

  Q8Matrix(TensorData t) {
    super(t, BLOCK_BYTES);
  }

  @Override
  void decodeBlocks(byte[] raw, int blocks, float[] q, int qOff, float[] d, int dOff) {
    for (int b = 0; b < blocks; b++) {
      int off = b * BLOCK_BYTES;
      d[dOff + b] = blockScale(raw, off);
      int o = qOff + b * BLOCK;
      for (int i = 0; i < BLOCK; i++) {
        q[o + i] = raw[off + 2 + i];
      }
    }
  }
}
