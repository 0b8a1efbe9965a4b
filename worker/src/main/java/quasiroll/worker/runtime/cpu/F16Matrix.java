package quasiroll.worker.runtime.cpu;

import quasiroll.worker.model.TensorData;

/** IEEE half-precision weights, decoded through {@link Half}'s table. */
final class F16Matrix extends WeightMatrix {
  F16Matrix(TensorData t) {
    super(t);
  }

  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    int base = row * cols * 2;
    int count = n * cols;
    for (int i = 0; i < count; i++) {
      dst[dstOff + i] = Half.toFloat(data.getShort(base + 2 * i));
    }
  }
}
