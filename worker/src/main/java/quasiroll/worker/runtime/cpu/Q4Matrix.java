package quasiroll.worker.runtime.cpu;

import quasiroll.worker.model.DType;
import quasiroll.worker.model.TensorData;

/**
 * GGUF Q4_0 weights: blocks of 32 values, each an f16 scale d then 16 bytes; byte j holds
 * element j in its low nibble and element j+16 in its high nibble; value = (nibble - 8) * d
 * (ggml's dequantize_row_q4_0).
 */
final class Q4Matrix extends QuantizedMatrix {
  private static final int BLOCK_BYTES = DType.Q4_0.blockBytes();

  Q4Matrix(TensorData t) {
    super(t, BLOCK_BYTES);
  }

  @Override
  void decodeBlocks(byte[] raw, int blocks, float[] q, int qOff, float[] d, int dOff) {
    for (int b = 0; b < blocks; b++) {
      int off = b * BLOCK_BYTES;
      d[dOff + b] = blockScale(raw, off);
      int o = qOff + b * BLOCK;
      for (int j = 0; j < 16; j++) {
        int v = raw[off + 2 + j] & 0xff;
        q[o + j] = (v & 0x0f) - 8;
        q[o + j + 16] = (v >>> 4) - 8;
      }
    }
  }
}
