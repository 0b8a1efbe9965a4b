package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
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
    return rowDot(seg, off, blocksPerRow, xq.qs, b * cols, xq.d, b * blocksPerRow, lanes);
  }

  @Override
  void unpack(int row0, int n, short[] q, float[] sc, float[] d, WorkerScratch s) {
    var m = seg;
    for (int r = 0; r < n; r++) {
      for (int k = 0; k < blocksPerRow; k++) {
        long off = ((long) (row0 + r) * blocksPerRow + k) * 210;
        int t0 = r * cols + k * QK;
        d[r * blocksPerRow + k] = Float.float16ToFloat(m.get(QuantizedMatrix.F16, off + 208));
        for (int j = 0; j < 16; j++) {
          sc[t0 / 16 + j] = m.get(ValueLayout.JAVA_BYTE, off + 192 + j);
        }
        for (int h = 0; h < 2; h++) {
          for (int l = 0; l < 32; l++) {
            int a = u8(m, off + 64 * h + l);
            int c = u8(m, off + 64 * h + l + 32);
            int hb = u8(m, off + 128 + 32 * h + l);
            int t = t0 + 128 * h + l;
            q[t] = (short) (((a & 15) | (hb & 3) << 4) - 32);
            q[t + 32] = (short) (((c & 15) | ((hb >> 2) & 3) << 4) - 32);
            q[t + 64] = (short) (((a >> 4) | ((hb >> 4) & 3) << 4) - 32);
            q[t + 96] = (short) (((c >> 4) | ((hb >> 6) & 3) << 4) - 32);
          }
        }
      }
    }
  }

  /** Shorts with as many lanes as a float vector (16 x 16 bits with AVX-512, 8 with AVX2). */
  static final VectorSpecies<Short> S =
      VectorSpecies.of(short.class, VectorShape.forBitSize(VectorKernels.L * 16));

  private static float rowDot(
      MemorySegment m,
      long off,
      int blocks,
      short[] xq,
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
   * xb+32, xb+64, xb+96 of the input) times their scales, added to blk in that order. The 6-bit
   * values are assembled and multiplied with the input in 16-bit lanes (|q - 32| * |x| <= 32 * 127:
   * exact), then widened to ints and floats for the scale; every partial sum is an exact integer,
   * so the result is that of the textbook order. Two small methods that take and return no vectors
   * (blk passed through an array, exactly), so that C2 compiles every vector operation: as one
   * larger method, or with vectors passed between methods, it hit the inlining node limit and fell
   * back to boxed vectors (3-8x slower).
   */
  private static void group(
      MemorySegment m, long ql, long qh, long sc, short[] xq, int xb, float[] blk) {
    lowNibbles(m, ql, qh, sc, xq, xb, blk);
    highNibbles(m, ql, qh, sc + 4, xq, xb + 64, blk);
  }

  private static void lowNibbles(
      MemorySegment m, long ql, long qh, long sc, short[] xq, int xb, float[] blk) {
    var B = QuantizedMatrix.B;
    var I = QuantizedMatrix.I;
    var F = VectorKernels.F;
    ByteOrder le = ByteOrder.LITTLE_ENDIAN;
    ShortVector a = (ShortVector) ByteVector.fromMemorySegment(B, m, ql, le).castShape(S, 0);
    ShortVector c = (ShortVector) ByteVector.fromMemorySegment(B, m, ql + 32, le).castShape(S, 0);
    ShortVector h = (ShortVector) ByteVector.fromMemorySegment(B, m, qh, le).castShape(S, 0);
    ShortVector q1 = a.and((short) 0x0f).or(h.and((short) 3).lanewise(VectorOperators.LSHL, 4));
    ShortVector q2 = c.and((short) 0x0f).or(h.and((short) 0x0c).lanewise(VectorOperators.LSHL, 2));
    ShortVector p1 = q1.sub((short) 32).mul(ShortVector.fromArray(S, xq, xb));
    ShortVector p2 = q2.sub((short) 32).mul(ShortVector.fromArray(S, xq, xb + 32));
    FloatVector acc = FloatVector.fromArray(F, blk, 0);
    acc =
        ((FloatVector) p1.castShape(I, 0).castShape(F, 0))
            .fma(FloatVector.broadcast(F, m.get(ValueLayout.JAVA_BYTE, sc)), acc);
    acc =
        ((FloatVector) p2.castShape(I, 0).castShape(F, 0))
            .fma(FloatVector.broadcast(F, m.get(ValueLayout.JAVA_BYTE, sc + 2)), acc);
    acc.intoArray(blk, 0);
  }

  private static void highNibbles(
      MemorySegment m, long ql, long qh, long sc, short[] xq, int xb, float[] blk) {
    var B = QuantizedMatrix.B;
    var I = QuantizedMatrix.I;
    var F = VectorKernels.F;
    ByteOrder le = ByteOrder.LITTLE_ENDIAN;
    ShortVector a = (ShortVector) ByteVector.fromMemorySegment(B, m, ql, le).castShape(S, 0);
    ShortVector c = (ShortVector) ByteVector.fromMemorySegment(B, m, ql + 32, le).castShape(S, 0);
    ShortVector h = (ShortVector) ByteVector.fromMemorySegment(B, m, qh, le).castShape(S, 0);
    ShortVector q3 = a.lanewise(VectorOperators.ASHR, 4).and((short) 0x0f).or(h.and((short) 0x30));
    ShortVector q4 =
        c.lanewise(VectorOperators.ASHR, 4)
            .and((short) 0x0f)
            .or(h.lanewise(VectorOperators.ASHR, 2).and((short) 0x30));
    ShortVector p3 = q3.sub((short) 32).mul(ShortVector.fromArray(S, xq, xb));
    ShortVector p4 = q4.sub((short) 32).mul(ShortVector.fromArray(S, xq, xb + 32));
    FloatVector acc = FloatVector.fromArray(F, blk, 0);
    acc =
        ((FloatVector) p3.castShape(I, 0).castShape(F, 0))
            .fma(FloatVector.broadcast(F, m.get(ValueLayout.JAVA_BYTE, sc)), acc);
    acc =
        ((FloatVector) p4.castShape(I, 0).castShape(F, 0))
            .fma(FloatVector.broadcast(F, m.get(ValueLayout.JAVA_BYTE, sc + 2)), acc);
    acc.intoArray(blk, 0);
  }
}
