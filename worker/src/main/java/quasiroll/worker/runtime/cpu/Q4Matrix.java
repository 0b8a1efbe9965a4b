package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.TensorData;

/**
 * GGUF Q4_0 weights: blocks of 32 values, each an f16 scale d then 16 bytes; byte j holds element j
 * in its low nibble and element j+16 in its high nibble; value = (nibble - 8) * d (ggml's
 * dequantize_row_q4_0).
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
      IntVector v =
          ints(ByteVector.fromMemorySegment(B, seg, off + 2 + p, ByteOrder.LITTLE_ENDIAN));
      FloatVector lo = floats(v.and(0x0f).sub(8));
      FloatVector hi = floats(v.lanewise(VectorOperators.ASHR, 4).and(0x0f).sub(8));
      sum = lo.fma(FloatVector.fromArray(F, xq, xo + p), sum);
      sum = hi.fma(FloatVector.fromArray(F, xq, xo + 16 + p), sum);
    }
    return sum;
  }

  @Override
  void dotRows(
      int row0,
      int n,
      float[] xq,
      int xo,
      float[] xd,
      int xdo,
      float[] out,
      int oo,
      float[] lanes) {
    long rowBytes = (long) blocksPerRow * BLOCK_BYTES;
    for (int r = 0; r < n; r++) {
      out[oo + r] = row(seg, (row0 + r) * rowBytes, blocksPerRow, xq, xo, xd, xdo, lanes);
    }
  }

  /** One row: {@link #blockDot} per block then the block's scale fma, in one small method. */
  private static float row(
      MemorySegment m,
      long off,
      int blocks,
      float[] xq,
      int xo,
      float[] xd,
      int xdo,
      float[] lanes) {
    var F = VectorKernels.F;
    int L = VectorKernels.L;
    FloatVector acc = FloatVector.zero(F);
    for (int k = 0; k < blocks; k++, off += BLOCK_BYTES) {
      int xk = xo + k * BLOCK;
      FloatVector sum = FloatVector.zero(F);
      for (int p = 0; p < 16; p += L) {
        IntVector v =
            ints(ByteVector.fromMemorySegment(B, m, off + 2 + p, ByteOrder.LITTLE_ENDIAN));
        FloatVector lo = floats(v.and(0x0f).sub(8));
        FloatVector hi = floats(v.lanewise(VectorOperators.ASHR, 4).and(0x0f).sub(8));
        sum = lo.fma(FloatVector.fromArray(F, xq, xk + p), sum);
        sum = hi.fma(FloatVector.fromArray(F, xq, xk + 16 + p), sum);
      }
      float dw = Float.float16ToFloat(m.get(F16, off));
      acc = sum.fma(FloatVector.broadcast(F, dw * xd[xdo + k]), acc);
    }
    return VectorKernels.sumLanes(acc, lanes);
  }
}
