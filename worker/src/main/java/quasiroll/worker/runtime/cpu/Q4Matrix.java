package quasiroll.worker.runtime.cpu;

import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import quasiroll.worker.model.TensorData;

/**
 * GGUF Q4_0 weights: blocks of 32 values, each an f16 scale d then 16 bytes; byte j holds
 * element j in its low nibble and element j+16 in its high nibble; value = (nibble - 8) * d
 * (ggml's dequantize_row_q4_0).
 */
final class Q4Matrix extends QuantizedMatrix {
  private static final int BLOCK_BYTES = 18;

  Q4Matrix(TensorData t) {
    super(t);
  }

  @Override
  void decodeBlocks(int row, int n, float[] q, int qOff, float[] d, int dOff) {
    int blocks = n * cols / BLOCK;
    int base = row * (cols / BLOCK) * BLOCK_BYTES;
    int L = VectorKernels.L;
    for (int b = 0; b < blocks; b++) {
      int off = base + b * BLOCK_BYTES;
      d[dOff + b] = Half.toFloat(data.getShort(off));
      int o = qOff + b * BLOCK;
      if (L > 16) {
        for (int j = 0; j < 16; j++) {
          int v = data.get(off + 2 + j) & 0xff;
          q[o + j] = (v & 0x0f) - 8;
          q[o + j + 16] = (v >>> 4) - 8;
        }
        continue;
      }
      for (int p = 0; p < 16; p += L) {
        ByteVector v = ByteVector.fromByteBuffer(VectorKernels.BYTES, data, off + 2 + p,
            ByteOrder.LITTLE_ENDIAN);
        ((FloatVector) v.and((byte) 0x0f).sub((byte) 8)
            .convertShape(VectorOperators.B2F, VectorKernels.F, 0)).intoArray(q, o + p);
        ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).sub((byte) 8)
            .convertShape(VectorOperators.B2F, VectorKernels.F, 0)).intoArray(q, o + 16 + p);
      }
    }
  }
}
