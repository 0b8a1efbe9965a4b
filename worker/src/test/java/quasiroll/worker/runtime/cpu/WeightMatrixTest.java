package quasiroll.worker.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.DTypeCodec;
import quasiroll.worker.model.TensorData;

class WeightMatrixTest {
  @Test
  void halfTableMatchesTextbookDecodingForAllBitPatterns() {
    for (int bits = 0; bits < 1 << 16; bits++) {
      int exp = (bits >> 10) & 31;
      if (exp == 31) {
        float f = Half.toFloat((short) bits);
        assertEquals((bits & 1023) == 0, Float.isInfinite(f), "bits " + bits);
        continue;
      }
      assertEquals(
          halfValue((short) bits),
          Half.toFloat((short) bits),
          0f,
          "bits " + Integer.toHexString(bits));
    }
  }

  /**
   * F16 rows are decoded by a loop of Float.float16ToFloat straight from the mapped bytes (which C2
   * compiles into vector conversions); BF16 by a shift on the vector lanes. Both are checked bit
   * for bit against the scalar definitions for all 65536 patterns, repeatedly so that the compiled
   * code is checked too.
   */
  @Test
  void halfRowsDecodeExactlyForAllBitPatterns() {
    ByteBuffer bytes = ByteBuffer.allocateDirect(2 << 16).order(ByteOrder.LITTLE_ENDIAN);
    for (int h = 0; h < 1 << 16; h++) {
      bytes.putShort((short) h);
    }
    bytes.flip();
    for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
      WeightMatrix m =
          WeightMatrix.of(
              new TensorData("w", dtype, new long[] {256, 256}, MemorySegment.ofBuffer(bytes)));
      float[] row = new float[1 << 16];
      for (int round = 0; round < 300; round++) {
        m.decodeRows(0, 256, row, 0);
        if (round % 100 != 0 && round != 299) {
          continue;
        }
        for (int h = 0; h < 1 << 16; h++) {
          float want =
              dtype == DType.F16 ? Float.float16ToFloat((short) h) : Float.intBitsToFloat(h << 16);
          assertEquals(
              Float.floatToRawIntBits(want),
              Float.floatToRawIntBits(row[h]),
              dtype + " bits " + Integer.toHexString(h) + " round " + round);
        }
      }
    }
  }

  /**
   * The batch-1 F16 products convert halves in the vector registers (F16Matrix.load, exact for
   * finite halves without passing through f32 subnormals); checked bit for bit against
   * Float.float16ToFloat for every finite pattern (zeros, subnormals, normals, both signs), also
   * once C2 has compiled it.
   */
  @Test
  void f16RegisterConversionIsExactForEveryFiniteHalf() {
    java.lang.foreign.MemorySegment m = java.lang.foreign.Arena.ofAuto().allocate(2 << 16, 64);
    for (int h = 0; h < 1 << 16; h++) {
      m.setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, h, (short) h);
    }
    int lanes = VectorKernels.L;
    float[] got = new float[1 << 16];
    for (int round = 0; round < 200; round++) {
      for (int h = 0; h < 1 << 16; h += lanes) {
        F16Matrix.load(m, 2L * h).intoArray(got, h);
      }
    }
    for (int h = 0; h < 1 << 16; h++) {
      if ((h & 0x7c00) == 0x7c00) {
        continue; // Inf and NaN: such tensors take the decode path (next test)
      }
      assertEquals(
          Float.floatToRawIntBits(Float.float16ToFloat((short) h)),
          Float.floatToRawIntBits(got[h]),
          "half " + Integer.toHexString(h));
    }
  }

  /**
   * An F16 tensor holding Inf or NaN is multiplied through the decode path at every batch size (the
   * register conversion would turn them into finite values): batch 1 gives what the decoded (batch
   * 3) path gives, Inf and NaN included.
   */
  @Test
  void f16WithInfOrNanMultipliesLikeTheDecodedPath() {
    int rows = 8;
    int cols = 64;
    float[] v = new float[rows * cols];
    Random rnd = new Random(5);
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    v[3] = Float.POSITIVE_INFINITY;
    v[cols + 5] = Float.NaN;
    WeightMatrix m =
        WeightMatrix.of(
            new TensorData("w", DType.F16, new long[] {rows, cols}, encode(DType.F16, v)));
    float[] x = new float[3 * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    WorkerScratch s = new WorkerScratch();
    float[] three = new float[3 * rows];
    float[] one = new float[rows];
    for (int r = 0; r < rows; r += WeightMatrix.GROUP) {
      m.multiplyRows(r, WeightMatrix.GROUP, x, null, 3, three, rows, s);
      m.multiplyRows(r, WeightMatrix.GROUP, x, null, 1, one, rows, s);
    }
    assertEquals(Float.POSITIVE_INFINITY * Math.signum(x[3]), one[0]);
    assertEquals(Float.NaN, one[1]);
    for (int r = 0; r < rows; r++) {
      assertEquals(Float.floatToIntBits(three[r]), Float.floatToIntBits(one[r]), "row " + r);
    }
  }

  /**
   * Every dtype's decoding and batched product against the textbook decoding and a double dot: 37
   * rows (blocks of 4 and a remainder), a 160-wide row (not a multiple of the vector length for
   * some widths is covered by 96 + 64) and batches of 1 and 5.
   */
  @ParameterizedTest
  @EnumSource(DType.class)
  void decodeAndMultiplyMatchScalarReference(DType dtype) {
    Random rnd = new Random(7);
    int[] widths = dtype.blockSize() == 256 ? new int[] {256, 512} : new int[] {96, 160};
    for (int cols : widths) {
      int rows = 37;
      float[] v = new float[rows * cols];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) rnd.nextGaussian() * 0.1f;
      }
      var bytes = encode(dtype, v);
      float[] ref = DTypeCodec.decode(dtype, bytes, v.length);
      WeightMatrix m = WeightMatrix.of(new TensorData("w", dtype, new long[] {rows, cols}, bytes));
      assertArrayEquals(ref, m.toFloats(), 0f, dtype + " decoding");
      for (int batch : new int[] {1, 5}) {
        float[] x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) rnd.nextGaussian();
        }
        // Q8_0/Q4_0 products see x quantized to Q8_0 blocks, Q4_K/Q6_K to Q8_K blocks (ggml's
        // numerics).
        boolean quantized = dtype == DType.Q8_0 || dtype == DType.Q4_0;
        boolean quantizedK = dtype == DType.Q4_K || dtype == DType.Q6_K;
        float[] out = new float[batch * rows];
        try (WorkerPool pool = new WorkerPool(2, 0)) {
          Matmul.run(pool, new Matmul.Product(m, x, batch, out));
        }
        for (int b = 0; b < batch; b++) {
          double[] xb = new double[cols];
          for (int i = 0; i < cols; i++) {
            xb[i] = x[b * cols + i];
          }
          if (quantized) {
            xb = ReferenceLlama.quantizeQ8(xb);
          }
          if (quantizedK) {
            xb = ReferenceLlama.quantizeQ8K(xb);
          }
          for (int r = 0; r < rows; r++) {
            double s = 0;
            double mag = 0;
            for (int i = 0; i < cols; i++) {
              s += (double) ref[r * cols + i] * xb[i];
              mag += Math.abs((double) ref[r * cols + i] * xb[i]);
            }
            // f32 accumulation of `cols` products: error well under 1e-5 of the magnitude sum.
            assertEquals(
                s,
                out[b * rows + r],
                1e-5 * mag + 1e-7,
                dtype + " row " + r + " batch " + b + "/" + batch);
          }
        }
      }
    }
  }

  /** A row's result is bit-identical whether it is multiplied alone or in a group, any batch. */
  @ParameterizedTest
  @EnumSource(DType.class)
  void productOfARowDoesNotDependOnItsGroupOrBatch(DType dtype) {
    Random rnd = new Random(11);
    int rows = 9;
    int cols = Math.max(64, dtype.blockSize());
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    WeightMatrix m =
        WeightMatrix.of(new TensorData("w", dtype, new long[] {rows, cols}, encode(dtype, v)));
    float[] x = new float[3 * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    WorkerScratch s = new WorkerScratch();
    // Batches of 2 and 3 take different paths for float weights (rows read straight from the
    // mapped file vs decoded to scratch) and for quantized ones; a lone row takes a third.
    for (int batch = 2; batch <= 3; batch++) {
      float[] together = new float[batch * rows];
      Q8Activations xq = m.quantizeInput(x, batch);
      for (int r = 0; r < rows; r += WeightMatrix.GROUP) {
        m.multiplyRows(r, Math.min(WeightMatrix.GROUP, rows - r), x, xq, batch, together, rows, s);
      }
      for (int b = 0; b < batch; b++) {
        float[] xb = java.util.Arrays.copyOfRange(x, b * cols, (b + 1) * cols);
        for (int r = 0; r < rows; r++) {
          float[] alone = new float[rows];
          m.multiplyRows(r, 1, xb, m.quantizeInput(xb, 1), 1, alone, rows, s);
          assertEquals(
              Float.floatToIntBits(together[b * rows + r]),
              Float.floatToIntBits(alone[r]),
              dtype + " row " + r + " batch member " + b + " of " + batch);
        }
      }
    }
  }

  /**
   * Rows of several (super-)blocks: the batch-1 kernels (rows or blocks read from the mapped bytes;
   * K-quants with integer lane sums; F16/BF16 converted in the registers) and the decoded/unpacked
   * path of batches of 3+ (K-quants: two inputs per pass) give bit-identical results, also once C2
   * has compiled both (repeated), with scales and mins of every size and an odd batch.
   */
  @ParameterizedTest
  @EnumSource(
      value = DType.class,
      names = {"Q8_0", "Q4_0", "Q4_K", "Q6_K", "F16", "BF16", "F32"})
  void kernelsAgreeBitForBitAcrossPathsWhenCompiled(DType dtype) {
    Random rnd = new Random(23);
    int rows = 24;
    int cols = 3 * 256;
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) {
      // Sub-blocks of very different magnitudes, so that scales (and Q4_K mins) use their range.
      v[i] = (float) (rnd.nextGaussian() * Math.exp(3 * rnd.nextGaussian()) + 0.3 * (i % 97));
      if (dtype == DType.F16) {
        v[i] = Math.max(-60000f, Math.min(60000f, v[i])); // finite: the register path
      }
    }
    WeightMatrix m =
        WeightMatrix.of(new TensorData("w", dtype, new long[] {rows, cols}, encode(dtype, v)));
    WorkerScratch s = new WorkerScratch();
    int batch = 3;
    float[] x = new float[batch * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (rnd.nextGaussian() * (1 + (i % 256 == 7 ? 40 : 0)));
    }
    Q8Activations xq = m.quantizeInput(x, batch);
    float[] together = new float[batch * rows];
    for (int r = 0; r < rows; r += WeightMatrix.GROUP) {
      m.multiplyRows(r, WeightMatrix.GROUP, x, xq, batch, together, rows, s);
    }
    float[][] xb = new float[batch][];
    Q8Activations[] xbq = new Q8Activations[batch];
    for (int b = 0; b < batch; b++) {
      xb[b] = java.util.Arrays.copyOfRange(x, b * cols, (b + 1) * cols);
      xbq[b] = m.quantizeInput(xb[b], 1);
    }
    float[] alone = new float[rows];
    float[] again = new float[batch * rows];
    for (int rep = 0; rep < 250; rep++) {
      int b = rep % batch;
      for (int r = 0; r < rows; r += WeightMatrix.GROUP) {
        m.multiplyRows(r, WeightMatrix.GROUP, x, xq, batch, again, rows, s);
      }
      assertArrayEquals(together, again, dtype + " batch of " + batch + ", repetition " + rep);
      for (int r = 0; r < rows; r += WeightMatrix.GROUP) {
        m.multiplyRows(r, WeightMatrix.GROUP, xb[b], xbq[b], 1, alone, rows, s);
      }
      for (int r = 0; r < rows; r++) {
        assertEquals(
            Float.floatToIntBits(together[b * rows + r]),
            Float.floatToIntBits(alone[r]),
            dtype + " row " + r + " input " + b + " repetition " + rep);
      }
    }
  }

  private static MemorySegment encode(DType dtype, float[] v) {
    return MemorySegment.ofArray(DTypeCodec.encode(dtype, v)).asReadOnly();
  }

  /** Textbook binary16: (-1)^s 2^(e-15) (1 + m/1024); subnormals 2^-14 m/1024. */
  private static float halfValue(short h) {
    int s = (h >> 15) & 1;
    int e = (h >> 10) & 31;
    int m = h & 1023;
    double v = e == 0 ? Math.pow(2, -14) * (m / 1024.0) : Math.pow(2, e - 15) * (1 + m / 1024.0);
    return (float) (s == 1 ? -v : v);
  }
}
