package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import quasiroll.worker.model.TensorData;

/**
 * IEEE half-precision weights. Products decode a row group straight from the mapped file into
 * per-thread scratch with a plain loop of {@link Float#float16ToFloat}, which C2 compiles into
 * hardware conversions (vcvtph2ps, 16 values per instruction), then multiply it from cache with
 * every input ({@link WeightMatrix#multiplyDecoded}). This measured 2x faster than converting
 * inside the product loop by bit arithmetic on the vector lanes (an exact construction of ~8
 * integer and float operations per vector): 19 vs 37 ms per 100M weights streamed, 104 vs 290 us
 * per 2048 x 768 matrix in cache (JDK 25, AVX-512).
 */
final class F16Matrix extends WeightMatrix {
  private static final ValueLayout.OfShort LE =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);


  F16Matrix(TensorData t) {
    super(t);
  }

  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    decode(seg, (long) row * cols * 2, n * cols, dst, dstOff);
  }

  /** count halves at byte offset o of m into dst[dstOff ..] (exact). */
  static void decode(MemorySegment m, long o, int count, float[] dst, int dstOff) {
    for (int i = 0; i < count; i++) {
      dst[dstOff + i] = Float.float16ToFloat(m.get(LE, o + 2L * i));
    }
  }
}
