package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
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
  float row(long off, Q8Activations xq, int b, float[] lanes) {
    return rowDot(
        seg,
        off,
        blocksPerRow,
        xq.qs,
        b * cols,
        xq.d,
        b * blocksPerRow,
        xq.bsums,
        b * cols / 16,
        lanes);
  }

  /** Group rows' dmin per super-block (blocks floats) then 8 mins per super-block, as ints. */
  @Override
  void unpack(int row0, int n, short[] q, float[] sc, float[] d, WorkerScratch s) {
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
          sc[t0 / 16 + 2 * j] = scale(lo, hi, j);
          sc[t0 / 16 + 2 * j + 1] = scale(lo, hi, j);
        }
        for (int c = 0; c < 4; c++) {
          for (int l = 0; l < 32; l++) {
            int v = u8(m, off + 16 + 32 * c + l);
            q[t0 + 64 * c + l] = (short) (v & 15);
            q[t0 + 64 * c + 32 + l] = (short) (v >> 4);
          }
        }
      }
    }
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

  /** sum_j m[j] * (sum of q8 over sub-block j): an exact integer. */
  private static int mins(long lo, int hi, int[] bsums, int bk) {
    int s = 0;
    for (int j = 0; j < 8; j++) {
      s += min(lo, hi, j) * (bsums[bk + 2 * j] + bsums[bk + 2 * j + 1]);
    }
    return s;
  }

  private static float rowDot(
      MemorySegment m,
      long off,
      int blocks,
      short[] xq,
      int xo,
      float[] xd,
      int xdo,
      int[] bsums,
      int bso,
      float[] lanes) {
    var F = VectorKernels.F;
    FloatVector acc = FloatVector.zero(F);
    float[] blk = new float[VectorKernels.L];
    float msum = 0f;
    for (int k = 0; k < blocks; k++, off += 144) {
      float d = Float.float16ToFloat(m.get(QuantizedMatrix.F16, off));
      float dmin = Float.float16ToFloat(m.get(QuantizedMatrix.F16, off + 2));
      long lo = m.get(LONG, off + 4);
      int hi = m.get(INT, off + 12);
      int xk = xo + k * QK;
      float dx = xd[xdo + k];
      msum += (dmin * dx) * mins(lo, hi, bsums, bso + k * 16);
      java.util.Arrays.fill(blk, 0f);
      for (int c = 0; c < 4; c++) {
        chunk(
            m,
            off + 16 + 32 * c,
            xq,
            xk + 64 * c,
            scale(lo, hi, 2 * c),
            scale(lo, hi, 2 * c + 1),
            blk);
      }
      acc = FloatVector.fromArray(F, blk, 0).fma(FloatVector.broadcast(F, d * dx), acc);
    }
    return VectorKernels.sumLanes(acc, lanes) - msum;
  }

  /**
   * One 64-value chunk (32 bytes): sa = low nibbles . x[xk..xk+32), sh = high nibbles .
   * x[xk+32..xk+64) lane-wise, then blk = fma(sa, s1, blk), blk = fma(sh, s2, blk). The nibbles are
   * multiplied with the input and the two halves of each sub-block added in 16-bit lanes (2 * 15 *
   * 127 fits), then widened to ints and floats: exact integers, as in the textbook order. A
   * separate small method that takes and returns no vectors (blk passed through an array, exactly)
   * so that C2 compiles every vector operation.
   */
  private static void chunk(
      MemorySegment m, long q, short[] xq, int xk, int s1, int s2, float[] blk) {
    var F = VectorKernels.F;
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
    FloatVector b = FloatVector.fromArray(F, blk, 0);
    b = ((FloatVector) sa.castShape(I, 0).castShape(F, 0)).fma(FloatVector.broadcast(F, s1), b);
    b = ((FloatVector) sh.castShape(I, 0).castShape(F, 0)).fma(FloatVector.broadcast(F, s2), b);
    b.intoArray(blk, 0);
  }
}
