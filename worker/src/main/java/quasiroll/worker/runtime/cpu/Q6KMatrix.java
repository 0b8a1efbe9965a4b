package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import quasiroll.worker.model.TensorData;

/**
 * GGUF Q6_K weights (layout in {@link quasiroll.worker.model.KQuants}). For a super-block with int8
 * scales sc[j] (sub-blocks of 16) and input block (q8, d_x) the product is d_w * d_x * S, S = sum_j
 * sc[j] * ((q6 - 32) . q8 over sub-block j), an exact integer (ggml's vec_dot_q6_K_q8_K),
 * accumulated lane-wise: acc = fma(S lanes, d_w * d_x, acc); the result is the lanes of acc summed
 * left to right.
 */
final class Q6KMatrix extends KQuantMatrix {
  Q6KMatrix(TensorData t) {
    super(t);
  }

  @Override
  float row(long off, Q8Activations xq, int b, float[] lanes) {
    return rowDot(seg, off, blocksPerRow, xq.q, b * cols, xq.d, b * blocksPerRow, lanes);
  }

  private static float rowDot(
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
    float[] blk = new float[L];
    for (int k = 0; k < blocks; k++, off += 210) {
      float d = Float.float16ToFloat(m.get(QuantizedMatrix.F16, off + 208));
      int xk = xo + k * QK;
      java.util.Arrays.fill(blk, 0f);
      for (int h = 0; h < 2; h++) {
        for (int p = 0; p < 32; p += L) {
          group(
              m,
              off + 64 * h + p,
              off + 128 + 32 * h + p,
              off + 192 + 8 * h + p / 16,
              xq,
              xk + 128 * h + p,
              blk);
        }
      }
      acc = FloatVector.fromArray(F, blk, 0).fma(FloatVector.broadcast(F, d * xd[xdo + k]), acc);
    }
    return VectorKernels.sumLanes(acc, lanes);
  }

  /**
   * The four L-value groups that share the bytes ql[0..L), ql[32..32+L), qh[0..L) (values xb,
   * xb+32, xb+64, xb+96 of the input) times their scales, added to blk in that order. A separate
   * small method (blk passed through an array, exactly) so that C2 compiles every vector operation:
   * as one large method it sometimes fell back to boxed vectors.
   */
  private static void group(
      MemorySegment m, long ql, long qh, long sc, float[] xq, int xb, float[] blk) {
    var F = VectorKernels.F;
    ByteOrder le = ByteOrder.LITTLE_ENDIAN;
    IntVector a = QuantizedMatrix.ints(ByteVector.fromMemorySegment(QuantizedMatrix.B, m, ql, le));
    IntVector c =
        QuantizedMatrix.ints(ByteVector.fromMemorySegment(QuantizedMatrix.B, m, ql + 32, le));
    IntVector hb = QuantizedMatrix.ints(ByteVector.fromMemorySegment(QuantizedMatrix.B, m, qh, le));
    FloatVector q1 =
        QuantizedMatrix.floats(a.and(0x0f).or(hb.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32));
    FloatVector q2 =
        QuantizedMatrix.floats(
            c.and(0x0f).or(hb.and(0x0c).lanewise(VectorOperators.LSHL, 2)).sub(32));
    FloatVector q3 =
        QuantizedMatrix.floats(
            a.lanewise(VectorOperators.ASHR, 4).and(0x0f).or(hb.and(0x30)).sub(32));
    FloatVector q4 =
        QuantizedMatrix.floats(
            c.lanewise(VectorOperators.ASHR, 4)
                .and(0x0f)
                .or(hb.lanewise(VectorOperators.ASHR, 2).and(0x30))
                .sub(32));
    FloatVector acc = FloatVector.fromArray(F, blk, 0);
    acc =
        q1.mul(FloatVector.fromArray(F, xq, xb))
            .fma(FloatVector.broadcast(F, m.get(ValueLayout.JAVA_BYTE, sc)), acc);
    acc =
        q2.mul(FloatVector.fromArray(F, xq, xb + 32))
            .fma(FloatVector.broadcast(F, m.get(ValueLayout.JAVA_BYTE, sc + 2)), acc);
    acc =
        q3.mul(FloatVector.fromArray(F, xq, xb + 64))
            .fma(FloatVector.broadcast(F, m.get(ValueLayout.JAVA_BYTE, sc + 4)), acc);
    acc =
        q4.mul(FloatVector.fromArray(F, xq, xb + 96))
            .fma(FloatVector.broadcast(F, m.get(ValueLayout.JAVA_BYTE, sc + 6)), acc);
    acc.intoArray(blk, 0);
  }
}
