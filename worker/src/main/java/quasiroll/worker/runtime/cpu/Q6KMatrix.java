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
 * GGUF Q6_K weights (layout in {@link quasiroll.worker.model.KQuants}). For a super-block with
 * int8 scales sc[j] (sub-blocks of 16) and input block (q8, d_x) the product is d_w * d_x * S,
 * S = sum_j sc[j] * ((q6 - 32) . q8 over sub-block j), an exact integer (ggml's
 * vec_dot_q6_K_q8_K), accumulated lane-wise: acc = fma(S lanes, d_w * d_x, acc); the result
 * is the lanes of acc summed left to right.
 */
final class Q6KMatrix extends KQuantMatrix {
  Q6KMatrix(TensorData t) {
    super(t);
  }

  @Override
  float row(long off, Q8Activations xq, int b, float[] lanes) {
    return rowDot(seg, off, blocksPerRow, xq.q, b * cols, xq.d, b * blocksPerRow, lanes);
  }

  private static float rowDot(MemorySegment m, long off, int blocks, float[] xq, int xo,
      float[] xd, int xdo, float[] lanes) {
    var F = VectorKernels.F;
    int L = VectorKernels.L;
    ByteOrder le = ByteOrder.LITTLE_ENDIAN;
    FloatVector acc = FloatVector.zero(F);
    for (int k = 0; k < blocks; k++, off += 210) {
      float d = Float.float16ToFloat(m.get(QuantizedMatrix.F16, off + 208));
      int xk = xo + k * QK;
      FloatVector blk = FloatVector.zero(F);
      for (int h = 0; h < 2; h++) {
        long ql = off + 64 * h;
        long qh = off + 128 + 32 * h;
        long sc = off + 192 + 8 * h;
        for (int p = 0; p < 32; p += L) {
          int is = p / 16;
          IntVector a = QuantizedMatrix.ints(
              ByteVector.fromMemorySegment(QuantizedMatrix.B, m, ql + p, le));
          IntVector c = QuantizedMatrix.ints(
              ByteVector.fromMemorySegment(QuantizedMatrix.B, m, ql + 32 + p, le));
          IntVector hb = QuantizedMatrix.ints(
              ByteVector.fromMemorySegment(QuantizedMatrix.B, m, qh + p, le));
          FloatVector q1 = QuantizedMatrix.floats(a.and(0x0f)
              .or(hb.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32));
          FloatVector q2 = QuantizedMatrix.floats(c.and(0x0f)
              .or(hb.and(0x0c).lanewise(VectorOperators.LSHL, 2)).sub(32));
          FloatVector q3 = QuantizedMatrix.floats(a.lanewise(VectorOperators.ASHR, 4).and(0x0f)
              .or(hb.and(0x30)).sub(32));
          FloatVector q4 = QuantizedMatrix.floats(c.lanewise(VectorOperators.ASHR, 4).and(0x0f)
              .or(hb.lanewise(VectorOperators.ASHR, 2).and(0x30)).sub(32));
          int xb = xk + 128 * h + p;
          blk = q1.mul(FloatVector.fromArray(F, xq, xb))
              .fma(FloatVector.broadcast(F, m.get(ValueLayout.JAVA_BYTE, sc + is)), blk);
          blk = q2.mul(FloatVector.fromArray(F, xq, xb + 32))
              .fma(FloatVector.broadcast(F, m.get(ValueLayout.JAVA_BYTE, sc + is + 2)), blk);
          blk = q3.mul(FloatVector.fromArray(F, xq, xb + 64))
              .fma(FloatVector.broadcast(F, m.get(ValueLayout.JAVA_BYTE, sc + is + 4)), blk);
          blk = q4.mul(FloatVector.fromArray(F, xq, xb + 96))
              .fma(FloatVector.broadcast(F, m.get(ValueLayout.JAVA_BYTE, sc + is + 6)), blk);
        }
      }
      acc = blk.fma(FloatVector.broadcast(F, d * xd[xdo + k]), acc);
    }
    return VectorKernels.sumLanes(acc, lanes);
  }
}
