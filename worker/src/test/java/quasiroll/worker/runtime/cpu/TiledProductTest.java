package quasiroll.worker.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.DTypeCodec;
import quasiroll.worker.model.TensorData;

/**
 * The batch-in-lanes product ({@link TiledProduct}, taken by float weights from {@link
 * TiledProduct#MIN_BATCH} inputs on) is bit-identical, per (row, input), to the batch-1 product of
 * that row and input, for every float dtype, widths that are and are not multiples of the vector
 * length, row counts with and without a remainder of the 4-row tile, and batches that fill the
 * 2-block tile, leave one block over, or end mid-block.
 */
class TiledProductTest {
  @ParameterizedTest
  @EnumSource(
      value = DType.class,
      names = {"F32", "F16", "BF16"})
  void batchedProductIsBitIdenticalToBatchOfOne(DType dtype) {
    Random rnd = new Random(23);
    int l = VectorKernels.L;
    for (int cols : new int[] {192, 3 * l + 5, l - 3, 512}) {
      for (int rows : new int[] {16, 37}) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) rnd.nextGaussian();
        }
        // Signed zeros and extremes: -0 products and cancellations must round as the solo path.
        v[0] = -0f;
        v[1] = 1e30f;
        v[cols] = -1e-30f;
        WeightMatrix m =
            WeightMatrix.of(new TensorData("w", dtype, new long[] {rows, cols}, enc(dtype, v)));
        for (int batch : new int[] {TiledProduct.MIN_BATCH, 2 * l, 2 * l + 3, 5 * l - 1, 256}) {
          float[] x = new float[batch * cols];
          for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
          }
          x[2] = -0f;
          x[cols + 1] = 1e10f;
          float[] together = new float[batch * rows];
          try (WorkerPool pool = new WorkerPool(2, 0)) {
            Matmul.run(pool, new Matmul.Product(m, x, batch, together));
          }
          WorkerScratch s = new WorkerScratch();
          for (int b = 0; b < batch; b++) {
            float[] xb = Arrays.copyOfRange(x, b * cols, (b + 1) * cols);
            float[] alone = new float[rows];
            for (int r = 0; r < rows; r++) {
              m.multiplyRows(r, 1, xb, null, 1, alone, rows, s);
              assertEquals(
                  Float.floatToRawIntBits(alone[r]),
                  Float.floatToRawIntBits(together[b * rows + r]),
                  dtype + " cols " + cols + " row " + r + " input " + b + " of " + batch);
            }
          }
        }
      }
    }
  }

  /** The lanes really are the per-row kernel: VectorKernels.dot on the decoded row. */
  @Test
  void matchesFixedOrderDotOnDecodedRows() {
    Random rnd = new Random(5);
    int cols = 200;
    int rows = 9;
    int batch = 40;
    float[] w = new float[rows * cols];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) rnd.nextGaussian();
    }
    float[] x = new float[batch * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    float[] out = new float[batch * rows];
    TiledProduct.multiply(
        w,
        rows,
        cols,
        TiledProduct.transpose(x, batch, cols),
        batch,
        out,
        rows,
        0,
        new float[VectorKernels.L]);
    float[] lanes = new float[VectorKernels.L];
    int differsFromNaive = 0;
    for (int b = 0; b < batch; b++) {
      for (int r = 0; r < rows; r++) {
        float want = VectorKernels.dot(w, r * cols, x, b * cols, cols, lanes);
        assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(out[b * rows + r]));
        float naive = 0f;
        for (int i = 0; i < cols; i++) {
          naive = Math.fma(w[r * cols + i], x[b * cols + i], naive);
        }
        if (naive != want) {
          differsFromNaive++;
        }
      }
    }
    // The check can fail: a plain sequential sum rounds differently for most of these outputs.
    assertTrue(differsFromNaive > 0, "summation order indistinguishable on this data");
  }

  private static MemorySegment enc(DType dtype, float[] v) {
    return MemorySegment.ofArray(DTypeCodec.encode(dtype, v)).asReadOnly();
  }
}
