package quasiroll.worker.runtime.cpu;

import quasiroll.worker.model.TensorData;

/** bfloat16 weights: the upper 16 bits of an f32, so decoding is a shift. */
final class Bf16Matrix extends WeightMatrix {
  Bf16Matrix(TensorData t) {
    super(t);
  }

  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    int base = row * cols * 2;
    int count = n * cols;
    for (int i = 0; i < count; i++) {
      dst[dstOff + i] = Float.intBitsToFloat((data.getShort(base + 2 * i) & 0xffff) << 16);
    }
  }
}
