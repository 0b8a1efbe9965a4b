package quasiroll.worker.runtime.cpu;

import quasiroll.worker.model.TensorData;

/** bfloat16 weights: the upper 16 bits of an f32, so decoding is a shift. */
final class Bf16Matrix extends WeightMatrix {
  Bf16Matrix(TensorData t) {
    super(t);
  }

  /** Bulk-copies the stored halves first: scalar reads from a mapped buffer are slower. */
  @Override
  void decodeRows(int row, int n, float[] dst, int dstOff) {
    short[] raw = new short[n * cols];
    data.asShortBuffer().get(row * cols, raw, 0, raw.length);
    for (int i = 0; i < raw.length; i++) {
      dst[dstOff + i] = Float.intBitsToFloat((raw[i] & 0xffff) << 16);
    }
  }
}
