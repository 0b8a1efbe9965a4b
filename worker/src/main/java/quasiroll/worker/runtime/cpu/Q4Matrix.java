package quasiroll.worker.runtime.cpu;

import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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

  @Override
  FloatVector blockDot(long off, float[] xq, int xo) {
    var F = VectorKernels.F;
    int L = VectorKernels.L;
    FloatVector sum = FloatVector.zero(F);
    for (int p = 0; p < 16; p += L) {
      ByteVector v = ByteVector.fromMemorySegment(B, seg, off + 2 + p, ByteOrder.LITTLE_ENDIAN);
      ByteVector lo = v.and((byte) 0x0f).sub((byte) 8);
      ByteVector hi = v.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
      sum = widen(lo).fma(FloatVector.fromArray(F, xq, xo + p), sum);
      sum = widen(hi).fma(FloatVector.fromArray(F, xq, xo + 16 + p), sum);
    }
    return sum;
  }

  @Override
  void dotRows(int row0, int n, float[] xq, int xo, float[] xd, int xdo, float[] out, int oo,
      float[] lanes) {
    var F = VectorKernels.F;
    long rowBytes = (long) blocksPerRow * BLOCK_BYTES;
    for (int r = 0; r < n; r++) {
      FloatVector acc = FloatVector.zero(F);
      long off = (row0 + r) * rowBytes;
      for (int k = 0; k < blocksPerRow; k++, off += BLOCK_BYTES) {
        FloatVector sum = blockDot(off, xq, xo + k * BLOCK);
        acc = sum.fma(FloatVector.broadcast(F, scaleAt(off) * xd[xdo + k]), acc);
      }
      out[oo + r] = VectorKernels.sumLanes(acc, lanes);
    }
  }
}
