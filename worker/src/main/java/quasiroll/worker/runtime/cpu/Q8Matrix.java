package quasiroll.worker.runtime.cpu;

import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import quasiroll.worker.model.TensorData;

/**
 * GGUF Q8_0 weights: blocks of 32 values, each block an f16 scale d followed by 32 int8 q;
 * value = q * d (ggml's dequantize_row_q8_0).
 */
final class Q8Matrix extends QuantizedMatrix {
  private static final int BLOCK_BYTES = 34;

  Q8Matrix(TensorData t) {
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
      for (int p = 0; p < BLOCK; p += L) {
        ((FloatVector) ByteVector.fromByteBuffer(VectorKernels.BYTES, data, off + 2 + p,
                ByteOrder.LITTLE_ENDIAN)
            .convertShape(VectorOperators.B2F, VectorKernels.F, 0))
            .intoArray(q, qOff + b * BLOCK + p);
      }
    }
  }
}
