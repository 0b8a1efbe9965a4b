package quasiroll.worker.runtime.cpu;

/**
 * Keys and values (f32) of consecutive positions [start, start + capacity) of one sequence for
 * every layer. A session holds one prefix segment (the prompt, shared read-only by all its
 * sequences) and one tail segment per live sequence.
 *
 * <p>Values are stored by slot ({@code values[layer][slot * kvDim + d]}); keys by blocks of L slots
 * (L = {@link VectorKernels#L}), transposed within a block, so that attention scores are computed
 * for L positions at once with the positions in the vector lanes: the key of slot {@code s},
 * dimension d, is at {@link #keyBase}(s) + d * {@link #keyWidth}(s), where a block holds L slots
 * (the last one the remaining {@code capacity % L}; no padding).
 */
final class KvSegment {
  final int start;
  final int capacity;
  final int kvDim;
  final float[][] keys;
  final float[][] values;

  /** Positions written so far (start + length is the next free position). */
  int length;

  /** Index of slot's dimension 0 in a layer's keys. */
  int keyBase(int slot) {
    int b0 = slot - slot % VectorKernels.L;
    return b0 * kvDim + slot - b0;
  }

  /** Distance between a slot's consecutive key dimensions: the slots in its block. */
  int keyWidth(int slot) {
    int b0 = slot - slot % VectorKernels.L;
    return Math.min(VectorKernels.L, capacity - b0);
  }

  /** Writes the key of slot (kvDim floats from k[ko ..]) for one layer. */
  void putKey(int layer, int slot, float[] k, int ko) {
    float[] dst = keys[layer];
    int base = keyBase(slot);
    int w = keyWidth(slot);
    for (int d = 0; d < kvDim; d++) {
      dst[base + d * w] = k[ko + d];
    }
  }

  /** A copy of the positions written so far (the rest zero, as in a new segment). */
  KvSegment copy() {
    KvSegment c = new KvSegment(keys.length, start, capacity, kvDim);
    int blocksEnd =
        Math.min(capacity, (length + VectorKernels.L - 1) / VectorKernels.L * VectorKernels.L);
    for (int l = 0; l < keys.length; l++) {
      System.arraycopy(keys[l], 0, c.keys[l], 0, blocksEnd * kvDim);
      System.arraycopy(values[l], 0, c.values[l], 0, length * kvDim);
    }
    c.length = length;
    return c;
  }

  KvSegment(int layers, int start, int capacity, int kvDim) {
    this.start = start;
    this.capacity = capacity;
    this.kvDim = kvDim;
    // L floats past the end: a masked vector load of the last (partial) block stays within the
    // array, which keeps it on the Vector API's fast path.
    this.keys = new float[layers][capacity * kvDim + VectorKernels.L];
    this.values = new float[layers][capacity * kvDim];
  }
}
