package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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
  void unpack(int row0, int n, float[] w, float[] d, WorkerScratch s) {
    var m = seg;
    int L = VectorKernels.L;
    for (int r = 0; r < n; r++) {
      for (int k = 0; k < blocksPerRow; k++) {
        long off = ((long) (row0 + r) * blocksPerRow + k) * 210;
        int t0 = r * cols + k * QK;
        d[r * blocksPerRow + k] = Float.float16ToFloat(m.get(QuantizedMatrix.F16, off + 208));
        for (int h = 0; h < 2; h++) {
          for (int p = 0; p < 32; p += L) {
            unpackGroup(
                m,
                off + 64 * h + p,
                off + 128 + 32 * h + p,
                off + 192 + 8 * h + p / 16,
                w,
                t0 + 128 * h + p);
          }
        }
      }
    }
  }

  /**
   * The four L-value groups that share the bytes ql[0..L), ql[32..32+L), qh[0..L): w[t + 32 * i ..]
   * = (q6 - 32) * scale for i = 0..3 (exact small integers as floats).
   */
  private static void unpackGroup(MemorySegment m, long ql, long qh, long sc, float[] w, int t) {
    var B = QuantizedMatrix.B;
    var I = QuantizedMatrix.I;
    var F = VectorKernels.F;
    ByteOrder le = ByteOrder.LITTLE_ENDIAN;
    IntVector a = (IntVector) ByteVector.fromMemorySegment(B, m, ql, le).castShape(I, 0);
    IntVector c = (IntVector) ByteVector.fromMemorySegment(B, m, ql + 32, le).castShape(I, 0);
    IntVector h = (IntVector) ByteVector.fromMemorySegment(B, m, qh, le).castShape(I, 0);
    IntVector q1 = a.and(0x0f).or(h.and(3).lanewise(VectorOperators.LSHL, 4));
    IntVector q2 = c.and(0x0f).or(h.and(0x0c).lanewise(VectorOperators.LSHL, 2));
    IntVector q3 = a.lanewise(VectorOperators.ASHR, 4).and(0x0f).or(h.and(0x30));
    IntVector q4 =
        c.lanewise(VectorOperators.ASHR, 4)
            .and(0x0f)
            .or(h.lanewise(VectorOperators.ASHR, 2).and(0x30));
    ((FloatVector) q1.sub(32).mul(m.get(ValueLayout.JAVA_BYTE, sc)).castShape(F, 0))
        .intoArray(w, t);
    ((FloatVector) q2.sub(32).mul(m.get(ValueLayout.JAVA_BYTE, sc + 2)).castShape(F, 0))
        .intoArray(w, t + 32);
    ((FloatVector) q3.sub(32).mul(m.get(ValueLayout.JAVA_BYTE, sc + 4)).castShape(F, 0))
        .intoArray(w, t + 64);
    ((FloatVector) q4.sub(32).mul(m.get(ValueLayout.JAVA_BYTE, sc + 6)).castShape(F, 0))
        .intoArray(w, t + 96);
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
    var I = QuantizedMatrix.I;
    int L = VectorKernels.L;
    int parts = 2 * (32 / L);
    FloatVector acc = FloatVector.zero(F);
    int[] blk = new int[2 * parts * L];
    for (int k = 0; k < blocks; k++, off += 210) {
      float d = Float.float16ToFloat(m.get(QuantizedMatrix.F16, off + 208));
      int xk = xo + k * QK;
      int slot = 0;
      for (int h = 0; h < 2; h++) {
        for (int p = 0; p < 32; p += L, slot += 2 * L) {
          lowNibbles(
              m,
              off + 64 * h + p,
              off + 128 + 32 * h + p,
              off + 192 + 8 * h + p / 16,
              xq,
              xk + 128 * h + p,
              blk,
              slot);
          highNibbles(
              m,
              off + 64 * h + p,
              off + 128 + 32 * h + p,
              off + 196 + 8 * h + p / 16,
              xq,
              xk + 128 * h + p + 64,
              blk,
              slot + L);
        }
      }
      IntVector s = IntVector.fromArray(I, blk, 0);
      for (int i = L; i < blk.length; i += L) {
        s = s.add(IntVector.fromArray(I, blk, i));
      }
      acc = ((FloatVector) s.castShape(F, 0)).fma(FloatVector.broadcast(F, d * xd[xdo + k]), acc);
    }
    // VectorKernels.sumLanes, written out: as a call it is not inlined here (node limit) and
    // the vector argument would be boxed.
    acc.intoArray(lanes, 0);
    float sum = 0f;
    for (int i = 0; i < L; i++) {
      sum += lanes[i];
    }
    return sum;
  }

  /*
   * The two methods below each compute two L-value groups that share the bytes ql[0..L),
   * ql[32..32+L), qh[0..L) (values xb and xb + 32 of the input): the 6-bit values are assembled
   * and multiplied with the input in 16-bit lanes (|q - 32| * |x| <= 32 * 127: exact), widened to
   * ints, multiplied by their int8 scale and added in int lanes; the L ints go to blk[slot ..].
   * Every value t of a super-block lands in lane t mod L, and a lane's sum over the super-block
   * (at most 16 * 32 * 127 * 127 < 2^24) is the same exact integer as in the textbook order.
   * Each group goes to its own slot, so nothing chains from one call to the next. Small methods
   * that take and return no vectors: C2's inlining node limit (NodeCountInliningCutoff) is hit
   * by a whole super-block in one method, and vectors then fall back to boxed objects.
   */
  private static void lowNibbles(
      MemorySegment m, long ql, long qh, long sc, short[] xq, int xb, int[] blk, int slot) {
    var B = QuantizedMatrix.B;
    var I = QuantizedMatrix.I;
    ByteOrder le = ByteOrder.LITTLE_ENDIAN;
    ShortVector a = (ShortVector) ByteVector.fromMemorySegment(B, m, ql, le).castShape(S, 0);
    ShortVector c = (ShortVector) ByteVector.fromMemorySegment(B, m, ql + 32, le).castShape(S, 0);
    ShortVector h = (ShortVector) ByteVector.fromMemorySegment(B, m, qh, le).castShape(S, 0);
    ShortVector q1 = a.and((short) 0x0f).or(h.and((short) 3).lanewise(VectorOperators.LSHL, 4));
    ShortVector q2 = c.and((short) 0x0f).or(h.and((short) 0x0c).lanewise(VectorOperators.LSHL, 2));
    ShortVector p1 = q1.sub((short) 32).mul(ShortVector.fromArray(S, xq, xb));
    ShortVector p2 = q2.sub((short) 32).mul(ShortVector.fromArray(S, xq, xb + 32));
    ((IntVector) p1.castShape(I, 0))
        .mul(m.get(ValueLayout.JAVA_BYTE, sc))
        .add(((IntVector) p2.castShape(I, 0)).mul(m.get(ValueLayout.JAVA_BYTE, sc + 2)))
        .intoArray(blk, slot);
  }

  private static void highNibbles(
      MemorySegment m, long ql, long qh, long sc, short[] xq, int xb, int[] blk, int slot) {
    var B = QuantizedMatrix.B;
    var I = QuantizedMatrix.I;
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
    ((IntVector) p3.castShape(I, 0))
        .mul(m.get(ValueLayout.JAVA_BYTE, sc))
        .add(((IntVector) p4.castShape(I, 0)).mul(m.get(ValueLayout.JAVA_BYTE, sc + 2)))
        .intoArray(blk, slot);
  }
}
