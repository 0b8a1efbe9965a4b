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
  float row(long off, Q8Activations xq, int b, WorkerScratch s) {
    return rowDot(
        seg, off, blocksPerRow, xq.qs, b * cols, xq.d, b * blocksPerRow, s.blockLanes, s.lanes);
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

  /** Shorts filling a whole float vector's width: 2L lanes (32 with AVX-512, 16 with AVX2). */
  static final VectorSpecies<Short> S2 =
      VectorSpecies.of(short.class, VectorShape.forBitSize(VectorKernels.L * 32));

  /** Bytes with 2L lanes, widened to {@link #S2}. */
  static final VectorSpecies<Byte> B2 =
      VectorSpecies.of(byte.class, VectorShape.forBitSize(VectorKernels.L * 16));

  private static float rowDot(
      MemorySegment m,
      long off,
      int blocks,
      short[] xq,
      int xo,
      float[] xd,
      int xdo,
      int[] blk,
      float[] lanes) {
    var F = VectorKernels.F;
    var I = QuantizedMatrix.I;
    int L = VectorKernels.L;
    int groups = 32 / (2 * L); // 2L-value groups per 32 bytes of ql
    FloatVector acc = FloatVector.zero(F);
    for (int k = 0; k < blocks; k++, off += 210) {
      float d = Float.float16ToFloat(m.get(QuantizedMatrix.F16, off + 208));
      int xk = xo + k * QK;
      int slot = 0;
      for (int h = 0; h < 2; h++) {
        for (int p = 0; p < 32; p += 2 * L, slot += L) {
          quarter(m, off, h, p, xq, xk, blk, slot);
        }
      }
      IntVector s = IntVector.fromArray(I, blk, 0);
      for (int i = L; i < 2 * groups * L; i += L) {
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

  /**
   * The 4 x 2L values of half h of the super-block at off that share the bytes ql[64h + p .. + 2L),
   * ql[64h + 32 + p ..), qh[32h + p ..) (values 128h + 32i + p + j, i = 0..3, j < 2L): the 6-bit
   * values are assembled in 2L 16-bit lanes and multiplied there with the input (|q - 32| * |x| <=
   * 32 * 127: exact); each half of a product vector (L values, one 16-value sub-block) is widened
   * to ints and multiplied by its int8 scale, and all eight are added in int lanes into blk[slot ..
   * slot + L). Value t of the super-block always lands in int lane t mod L, and a lane's sum over
   * the super-block (at most 16 * 32 * 127 * 127 < 2^24) is the same exact integer in any order. A
   * small method that takes and returns no vectors: C2's inlining node limit
   * (NodeCountInliningCutoff) is hit by a whole super-block in one method, and vectors then fall
   * back to boxed objects.
   */
  private static void quarter(
      MemorySegment m, long off, int h, int p, short[] xq, int xk, int[] blk, int slot) {
    var I = QuantizedMatrix.I;
    int L = VectorKernels.L;
    ByteOrder le = ByteOrder.LITTLE_ENDIAN;
    long ql = off + 64 * h + p;
    long qh = off + 128 + 32 * h + p;
    long sc = off + 192 + 8 * h + p / 16;
    int xb = xk + 128 * h + p;
    ShortVector a = (ShortVector) ByteVector.fromMemorySegment(B2, m, ql, le).castShape(S2, 0);
    ShortVector c = (ShortVector) ByteVector.fromMemorySegment(B2, m, ql + 32, le).castShape(S2, 0);
    ShortVector hb = (ShortVector) ByteVector.fromMemorySegment(B2, m, qh, le).castShape(S2, 0);
    ShortVector q1 = a.and((short) 0x0f).or(hb.and((short) 3).lanewise(VectorOperators.LSHL, 4));
    ShortVector q2 = c.and((short) 0x0f).or(hb.and((short) 0x0c).lanewise(VectorOperators.LSHL, 2));
    ShortVector q3 = a.lanewise(VectorOperators.ASHR, 4).and((short) 0x0f).or(hb.and((short) 0x30));
    ShortVector q4 =
        c.lanewise(VectorOperators.ASHR, 4)
            .and((short) 0x0f)
            .or(hb.lanewise(VectorOperators.ASHR, 2).and((short) 0x30));
    ShortVector p1 = q1.sub((short) 32).mul(ShortVector.fromArray(S2, xq, xb));
    ShortVector p2 = q2.sub((short) 32).mul(ShortVector.fromArray(S2, xq, xb + 32));
    ShortVector p3 = q3.sub((short) 32).mul(ShortVector.fromArray(S2, xq, xb + 64));
    ShortVector p4 = q4.sub((short) 32).mul(ShortVector.fromArray(S2, xq, xb + 96));
    // scale of the sub-block of values v .. v + L: sc[v / 16] (relative to sc: (v - p) / 16)
    int l1 = L / 16; // 1 with AVX-512 (the two halves are two sub-blocks), 0 with AVX2
    IntVector s =
        ((IntVector) p1.castShape(I, 0))
            .mul(m.get(ValueLayout.JAVA_BYTE, sc))
            .add(((IntVector) p1.castShape(I, 1)).mul(m.get(ValueLayout.JAVA_BYTE, sc + l1)))
            .add(((IntVector) p2.castShape(I, 0)).mul(m.get(ValueLayout.JAVA_BYTE, sc + 2)))
            .add(((IntVector) p2.castShape(I, 1)).mul(m.get(ValueLayout.JAVA_BYTE, sc + 2 + l1)))
            .add(((IntVector) p3.castShape(I, 0)).mul(m.get(ValueLayout.JAVA_BYTE, sc + 4)))
            .add(((IntVector) p3.castShape(I, 1)).mul(m.get(ValueLayout.JAVA_BYTE, sc + 4 + l1)))
            .add(((IntVector) p4.castShape(I, 0)).mul(m.get(ValueLayout.JAVA_BYTE, sc + 6)))
            .add(((IntVector) p4.castShape(I, 1)).mul(m.get(ValueLayout.JAVA_BYTE, sc + 6 + l1)));
    s.intoArray(blk, slot);
  }
}
