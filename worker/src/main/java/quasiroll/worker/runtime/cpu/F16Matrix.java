package quasiroll.worker.runtime.cpu;

import quasiroll.worker.model.TensorData;

/** IEEE half-precision weights, decoded through {@link Half}'s table. */
final class F16Matrix extends WeightMatrix {
  F16Matrix(TensorData t) {
    super(t);
  }

  /** Bulk-copies the stored halves first: scalar reads from a mapped buffer are slower. */
  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    short[] raw = new short[n * cols];
    data.asShortBuffer().get(row * cols, raw, 0, raw.length);
    for (int i = 0; i < raw.length; i++) {
      dst[dstOff + i] = Half.toFloat(raw[i]);
    }
  }
}
