package quasiroll.worker.runtime.cuda;

import quasiroll.worker.model.DType;

/**
 * How one Y = X W^T product is cut into tensor-core tiles (see matmul.cu): 64 output columns per
 * block, 16/32/64 rows per block by batch size, and a split of K across blocks when the column
 * tiles alone would leave the GPU idle (decode at small batch is a stream over the weights, so it
 * needs many blocks in flight).
 *
 * <p>Determinism: the split count and the K ranges depend only on (n, k), never on the number of
 * rows, so a sequence's logits do not depend on the batch it is decoded in.
 */
record MatmulPlan(int rows, int n, int k, int rowFragments, int splits, int kPerSplit) {
  static final int BLOCK_COLS = 64;
  static final int K_STEP = 32;

  /** Blocks wanted in flight for one row tile (~2 per SM on an H100). */
  static final int TARGET_BLOCKS = 256;

  /** Each split walks at least this many K steps, so a split's partials are worth writing. */
  static final int MIN_STEPS_PER_SPLIT = 4;

  static MatmulPlan of(int rows, int n, int k) {
    if (k % 8 != 0) {
      throw new IllegalArgumentException(
          "matmul inner dimension " + k + " must be a multiple of 8 (16-byte weight loads)");
    }
    int fragments = rows <= 16 ? 1 : rows <= 32 ? 2 : 4;
    int steps = (k + K_STEP - 1) / K_STEP;
    int splits = splitsFor(n, k);
    int stepsPerSplit = (steps + splits - 1) / splits;
    splits = (steps + stepsPerSplit - 1) / stepsPerSplit; // no empty splits
    return new MatmulPlan(rows, n, k, fragments, splits, stepsPerSplit * K_STEP);
  }

  /** The split-K count for an n x k weight: a function of the shape alone. */
  static int splitsFor(int n, int k) {
    int colBlocks = (n + BLOCK_COLS - 1) / BLOCK_COLS;
    int steps = (k + K_STEP - 1) / K_STEP;
    int wanted = (TARGET_BLOCKS + colBlocks - 1) / colBlocks;
    return Math.max(1, Math.min(wanted, steps / MIN_STEPS_PER_SPLIT));
  }

  int rowsPerBlock() {
    return 16 * rowFragments;
  }

  int gridX() {
    return (n + BLOCK_COLS - 1) / BLOCK_COLS;
  }

  int gridY() {
    return (rows + rowsPerBlock() - 1) / rowsPerBlock();
  }

  /** Floats of split-K partial sums this product writes (0 without a split). */
  long partialFloats() {
    return splits > 1 ? (long) splits * rows * n : 0;
  }

  /** The kernel entry for a weight of this element type. */
  String kernel(DType weight) {
    String t =
        switch (weight) {
          case BF16 -> "bf16";
          case F16 -> "f16";
          default ->
              throw new IllegalArgumentException(
                  "no tensor-core matmul for " + weight + " weights");
        };
    return "matmul_" + t + "_m" + rowsPerBlock();
  }
}
