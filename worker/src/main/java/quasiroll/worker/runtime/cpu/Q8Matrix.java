package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.TensorData;

/**
 * GGUF Q8_0 weights: blocks of 32 values, each block an f16 scale d followed by 32 int8 q; value =
 * q * d (ggml's dequantize_row_q8_0).
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

  @Override
  FloatVector blockDot(long off, float[] xq, int xo) {
    var F = VectorKernels.F;
    int L = VectorKernels.L;
    FloatVector sum = FloatVector.zero(F);
    for (int p = 0; p < BLOCK; p += L) {
      FloatVector w =
          widen(ByteVector.fromMemorySegment(B, seg, off + 2 + p, ByteOrder.LITTLE_ENDIAN));
      sum = w.fma(FloatVector.fromArray(F, xq, xo + p), sum);
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
      long off = (row0 + r) * rowBytes;
      out[oo + r] =
          VectorKernels.L == 16
              ? row16(seg, off, blocksPerRow, xq, xo, xd, xdo, lanes)
              : row(off, xq, xo, xd, xdo, lanes);
    }
  }

  private float row(long off, float[] xq, int xo, float[] xd, int xdo, float[] lanes) {
    var F = VectorKernels.F;
    FloatVector acc = FloatVector.zero(F);
    for (int k = 0; k < blocksPerRow; k++, off += BLOCK_BYTES) {
      FloatVector sum = blockDot(off, xq, xo + k * BLOCK);
      acc = sum.fma(FloatVector.broadcast(F, scaleAt(off) * xd[xdo + k]), acc);
    }
    return VectorKernels.sumLanes(acc, lanes);
  }

  /**
   * One row with 16-lane vectors: the same operations as {@link #blockDot} (sum = fma(w0, x0, 0)
   * then fma(w1, x1, sum): exact integers) then the block's scale fma, in one small method so that
   * the JIT compiles every vector operation (a larger method with several rows interleaved fell
   * back to boxed vectors, 30x slower).
   */
  private static float row16(
      MemorySegment m,
      long off,
      int blocks,
      float[] xq,
      int xo,
      float[] xd,
      int xdo,
      float[] lanes) {
    var F = VectorKernels.F;
    FloatVector acc = FloatVector.zero(F);
    for (int k = 0; k < blocks; k++, off += BLOCK_BYTES) {
      int xk = xo + k * BLOCK;
      FloatVector w0 = widen(ByteVector.fromMemorySegment(B, m, off + 2, ByteOrder.LITTLE_ENDIAN));
      FloatVector w1 = widen(ByteVector.fromMemorySegment(B, m, off + 18, ByteOrder.LITTLE_ENDIAN));
      FloatVector sum =
          w1.fma(
              FloatVector.fromArray(F, xq, xk + 16),
              w0.fma(FloatVector.fromArray(F, xq, xk), FloatVector.zero(F)));
      float dw = Float.float16ToFloat(m.get(F16, off));
      acc = sum.fma(FloatVector.broadcast(F, dw * xd[xdo + k]), acc);
    }
    return VectorKernels.sumLanes(acc, lanes);
  }
}
