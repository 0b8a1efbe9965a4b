package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import quasiroll.worker.model.TensorData;

/**
 * GGUF Q4_K weights (layout in {@link quasiroll.worker.model.KQuants}). For a super-block with
 * scales sc[j], mins m[j] (sub-blocks of 32) and input block (q8, d_x, bsums), the product is d_w *
 * d_x * S - dmin_w * d_x * M with S = sum_j sc[j] * (q4 . q8 over sub-block j) and M = sum_j m[j] *
 * (sum of q8 over sub-block j), both exact integers (ggml's vec_dot_q4_K_q8_K). S is accumulated
 * lane-wise: acc = fma(S lanes, d_w * d_x, acc); the min terms are summed separately in block
 * order, msum += (dmin_w * d_x) * M; the result is (lanes of acc summed left to right) - msum.
 */
final class Q4KMatrix extends KQuantMatrix {
  Q4KMatrix(TensorData t) {
    super(t);
  }

  @Override
  float row(long off, Q8Activations xq, int b, WorkerScratch s) {
    return rowDot(
        seg,
        off,
        blocksPerRow,
        xq.qs,
        b * cols,
        xq.d,
        b * blocksPerRow,
        xq.bsums32,
        b * cols / 16,
        s.blockLanes,
        s.lanes);
  }

  /** Group rows' dmin per super-block (blocks floats) then 8 mins per super-block, as ints. */
  @Override
  void unpack(int row0, int n, float[] w, float[] d, WorkerScratch s) {
    var m = seg;
    int blocks = blocksPerRow;
    int[] mins = s.ints(GROUP * blocks * 9);
    for (int r = 0; r < n; r++) {
      for (int k = 0; k < blocks; k++) {
        long off = ((long) (row0 + r) * blocks + k) * 144;
        int rk = r * blocks + k;
        d[rk] = Float.float16ToFloat(m.get(QuantizedMatrix.F16, off));
        mins[rk] =
            Float.floatToRawIntBits(Float.float16ToFloat(m.get(QuantizedMatrix.F16, off + 2)));
        long lo = m.get(LONG, off + 4);
        int hi = m.get(INT, off + 12);
        int t0 = r * cols + k * QK;
        for (int j = 0; j < 8; j++) {
          mins[GROUP * blocks + rk * 8 + j] = min(lo, hi, j);
        }
        for (int c = 0; c < 4; c++) {
          for (int p = 0; p < 32; p += VectorKernels.L) {
            unpackNibbles(
                m,
                off + 16 + 32 * c + p,
                scale(lo, hi, 2 * c),
                scale(lo, hi, 2 * c + 1),
                w,
                t0 + 64 * c + p);
          }
        }
      }
    }
  }

  /**
   * L bytes of nibbles: w[t ..] = low nibble * s1, w[t + 32 ..] = high nibble * s2 (exact small
   * integers as floats).
   */
  private static void unpackNibbles(MemorySegment m, long q, int s1, int s2, float[] w, int t) {
    var I = QuantizedMatrix.I;
    var F = VectorKernels.F;
    IntVector v =
        (IntVector)
            ByteVector.fromMemorySegment(QuantizedMatrix.B, m, q, ByteOrder.LITTLE_ENDIAN)
                .castShape(I, 0);
    ((FloatVector) v.and(0x0f).mul(s1).castShape(F, 0)).intoArray(w, t);
    ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).and(0x0f).mul(s2).castShape(F, 0))
        .intoArray(w, t + 32);
  }

  /** msum of {@link #rowDot} for row r of the unpacked group and input b: the same operations. */
  @Override
  float minTerm(int r, int b, Q8Activations xq, WorkerScratch s) {
    int blocks = blocksPerRow;
    int[] mins = s.ints(GROUP * blocks * 9);
    int bso = b * cols / 16;
    float msum = 0f;
    for (int k = 0; k < blocks; k++) {
      int rk = r * blocks + k;
      float dmin = Float.intBitsToFloat(mins[rk]);
      float dx = xq.d[b * blocks + k];
      int bk = bso + k * 16;
      int sum = 0;
      for (int j = 0; j < 8; j++) {
        sum +=
            mins[GROUP * blocks + rk * 8 + j] * (xq.bsums[bk + 2 * j] + xq.bsums[bk + 2 * j + 1]);
      }
      msum += (dmin * dx) * sum;
    }
    return msum;
  }

  private static final ValueLayout.OfLong LONG =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt INT =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /** Byte i (0..11) of the scale bytes held as lo (bytes 0-7) and hi (bytes 8-11). */
  private static int b(long lo, int hi, int i) {
    return (int) (i < 8 ? (lo >>> (8 * i)) & 0xff : (hi >>> (8 * (i - 8))) & 0xff);
  }

  static int scale(long lo, int hi, int j) {
    return j < 4 ? b(lo, hi, j) & 63 : (b(lo, hi, j + 4) & 0xf) | ((b(lo, hi, j - 4) >> 6) << 4);
  }

  static int min(long lo, int hi, int j) {
    return j < 4 ? b(lo, hi, j + 4) & 63 : (b(lo, hi, j + 4) >> 4) | ((b(lo, hi, j) >> 6) << 4);
  }

  private static float rowDot(
      MemorySegment m,
      long off,
      int blocks,
      short[] xq,
      int xo,
      float[] xd,
      int xdo,
      int[] bsums32,
      int bso,
      int[] blk,
      float[] lanes) {
    var F = VectorKernels.F;
    var I = QuantizedMatrix.I;
    int L = VectorKernels.L;
    FloatVector acc = FloatVector.zero(F);
    float msum = 0f;
    for (int k = 0; k < blocks; k++, off += 144) {
      float d = Float.float16ToFloat(m.get(QuantizedMatrix.F16, off));
      float dmin = Float.float16ToFloat(m.get(QuantizedMatrix.F16, off + 2));
      // The eight 6-bit scales and mins, four to an int (ggml's utmp unpacking of the 12 bytes).
      int u0 = m.get(INT, off + 4);
      int u1 = m.get(INT, off + 8);
      int u2 = m.get(INT, off + 12);
      int sc0 = u0 & 0x3f3f3f3f;
      int sc1 = (u2 & 0x0f0f0f0f) | (((u0 >>> 6) & 0x03030303) << 4);
      int mn0 = u1 & 0x3f3f3f3f;
      int mn1 = ((u2 >>> 4) & 0x0f0f0f0f) | (((u1 >>> 6) & 0x03030303) << 4);
      int xk = xo + k * QK;
      float dx = xd[xdo + k];
      int b32 = bso / 2 + k * 8;
      int msk =
          (mn0 & 0xff) * bsums32[b32]
              + ((mn0 >>> 8) & 0xff) * bsums32[b32 + 1]
              + ((mn0 >>> 16) & 0xff) * bsums32[b32 + 2]
              + (mn0 >>> 24) * bsums32[b32 + 3]
              + (mn1 & 0xff) * bsums32[b32 + 4]
              + ((mn1 >>> 8) & 0xff) * bsums32[b32 + 5]
              + ((mn1 >>> 16) & 0xff) * bsums32[b32 + 6]
              + (mn1 >>> 24) * bsums32[b32 + 7];
      msum += (dmin * dx) * msk;
      long q = off + 16;
      chunk(m, q, xq, xk, sc0 & 0xff, (sc0 >>> 8) & 0xff, blk, 0);
      chunk(m, q + 32, xq, xk + 64, (sc0 >>> 16) & 0xff, sc0 >>> 24, blk, L);
      chunk(m, q + 64, xq, xk + 128, sc1 & 0xff, (sc1 >>> 8) & 0xff, blk, 2 * L);
      chunk(m, q + 96, xq, xk + 192, (sc1 >>> 16) & 0xff, sc1 >>> 24, blk, 3 * L);
      IntVector sum =
          IntVector.fromArray(I, blk, 0)
              .add(IntVector.fromArray(I, blk, L))
              .add(IntVector.fromArray(I, blk, 2 * L))
              .add(IntVector.fromArray(I, blk, 3 * L));
      acc = ((FloatVector) sum.castShape(F, 0)).fma(FloatVector.broadcast(F, d * dx), acc);
    }
    // VectorKernels.sumLanes written out (as a call it may not be inlined, boxing the vector).
    acc.intoArray(lanes, 0);
    float s = 0f;
    for (int i = 0; i < L; i++) {
      s += lanes[i];
    }
    return s - msum;
  }

  /**
   * One 64-value chunk (32 bytes): sa = low nibbles . x[xk..xk+32), sh = high nibbles .
   * x[xk+32..xk+64) lane-wise, multiplied with the input and the two halves of each sub-block added
   * in 16-bit lanes (2 * 15 * 127 fits), then widened to ints: blk[slot ..] = s1 * sa + s2 * sh. A
   * lane's sum over the super-block (at most 16 * 63 * 15 * 127 < 2^24) is the same exact integer
   * as the float lane sums of the textbook order. Each chunk has its own slot, so nothing chains
   * from one call to the next; a separate small method that takes and returns no vectors so that C2
   * compiles every vector operation (inlining node limit).
   */
  private static void chunk(
      MemorySegment m, long q, short[] xq, int xk, int s1, int s2, int[] blk, int slot) {
    var B = QuantizedMatrix.B;
    var S = Q6KMatrix.S;
    int L = VectorKernels.L;
    ByteOrder le = ByteOrder.LITTLE_ENDIAN;
    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B, m, q, le).castShape(S, 0);
    ShortVector sa = v.and((short) 0x0f).mul(ShortVector.fromArray(S, xq, xk));
    ShortVector sh =
        v.lanewise(VectorOperators.ASHR, 4)
            .and((short) 0x0f)
            .mul(ShortVector.fromArray(S, xq, xk + 32));
    for (int p = L; p < 32; p += L) {
      v = (ShortVector) ByteVector.fromMemorySegment(B, m, q + p, le).castShape(S, 0);
      sa = sa.add(v.and((short) 0x0f).mul(ShortVector.fromArray(S, xq, xk + p)));
      sh =
          sh.add(
              v.lanewise(VectorOperators.ASHR, 4)
                  .and((short) 0x0f)
                  .mul(ShortVector.fromArray(S, xq, xk + 32 + p)));
    }
    var I = QuantizedMatrix.I;
    ((IntVector) sa.castShape(I, 0))
        .mul(s1)
        .add(((IntVector) sh.castShape(I, 0)).mul(s2))
        .intoArray(blk, slot);
  }
}
