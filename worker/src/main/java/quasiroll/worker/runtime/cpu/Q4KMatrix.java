package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import quasiroll.worker.model.TensorData;

/**
 * GGUF Q4_K weights (layout in {@link quasiroll.worker.model.KQuants}). For a super-block with
 * scales sc[j], mins m[j] (sub-blocks of 32) and input block (q8, d_x, bsums), the product is
 * d_w * d_x * S - dmin_w * d_x * M with S = sum_j sc[j] * (q4 . q8 over sub-block j) and
 * M = sum_j m[j] * (sum of q8 over sub-block j), both exact integers (ggml's
 * vec_dot_q4_K_q8_K). S is accumulated lane-wise: acc = fma(S lanes, d_w * d_x, acc); the min
 * terms are summed separately in block order, msum += (dmin_w * d_x) * M; the result is
 * (lanes of acc summed left to right) - msum.
 */
final class Q4KMatrix extends KQuantMatrix {
  Q4KMatrix(TensorData t) {
    super(t);
  }

  @Override
  float row(long off, Q8Activations xq, int b, float[] lanes) {
    return rowDot(seg, off, blocksPerRow, xq.q, b * cols, xq.d, b * blocksPerRow, xq.bsums,
        b * cols / 16, lanes);
  }

  private static int scale(MemorySegment m, long sb, int j) {
    return j < 4 ? u8(m, sb + j) & 63 : (u8(m, sb + j + 4) & 0xf) | ((u8(m, sb + j - 4) >> 6) << 4);
  }

  private static int min(MemorySegment m, long sb, int j) {
    return j < 4 ? u8(m, sb + j + 4) & 63 : (u8(m, sb + j + 4) >> 4) | ((u8(m, sb + j) >> 6) << 4);
  }

  private static float rowDot(MemorySegment m, long off, int blocks, float[] xq, int xo,
      float[] xd, int xdo, int[] bsums, int bso, float[] lanes) {
    var F = VectorKernels.F;
    int L = VectorKernels.L;
    ByteOrder le = ByteOrder.LITTLE_ENDIAN;
    FloatVector acc = FloatVector.zero(F);
    float msum = 0f;
    for (int k = 0; k < blocks; k++, off += 144) {
      float d = Float.float16ToFloat(m.get(QuantizedMatrix.F16, off));
      float dmin = Float.float16ToFloat(m.get(QuantizedMatrix.F16, off + 2));
      long sb = off + 4;
      int xk = xo + k * QK;
      int bk = bso + k * 16;
      FloatVector blk = FloatVector.zero(F);
      int mins = 0;
      for (int c = 0; c < 4; c++) {
        FloatVector sa = FloatVector.zero(F);
        FloatVector sh = FloatVector.zero(F);
        for (int p = 0; p < 32; p += L) {
          ByteVector v = ByteVector.fromMemorySegment(QuantizedMatrix.B, m, off + 16 + 32 * c + p,
              le);
          FloatVector lo = QuantizedMatrix.widen(v.and((byte) 0x0f));
          FloatVector hi = QuantizedMatrix.widen(v.lanewise(VectorOperators.LSHR, 4));
          sa = lo.fma(FloatVector.fromArray(F, xq, xk + 64 * c + p), sa);
          sh = hi.fma(FloatVector.fromArray(F, xq, xk + 64 * c + 32 + p), sh);
        }
        blk = sa.fma(FloatVector.broadcast(F, scale(m, sb, 2 * c)), blk);
        blk = sh.fma(FloatVector.broadcast(F, scale(m, sb, 2 * c + 1)), blk);
        mins += min(m, sb, 2 * c) * (bsums[bk + 4 * c] + bsums[bk + 4 * c + 1])
            + min(m, sb, 2 * c + 1) * (bsums[bk + 4 * c + 2] + bsums[bk + 4 * c + 3]);
      }
      float dx = xd[xdo + k];
      acc = blk.fma(FloatVector.broadcast(F, d * dx), acc);
      msum += (dmin * dx) * mins;
    }
    return VectorKernels.sumLanes(acc, lanes) - msum;
  }
}
