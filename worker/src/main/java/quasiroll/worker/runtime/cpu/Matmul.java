package quasiroll.worker.runtime.cpu;

/**
 * Batched matrix-vector products, several matrices in one parallel loop. Output rows are cut into
 * fixed blocks of {@link #BLOCK_ROWS} (the partition does not depend on the thread count); a block
 * multiplies its rows with every input of the batch, so weights stream from memory once per step
 * however many sequences are decoded.
 */
final class Matmul {
  static final int BLOCK_ROWS = 16;

  /**
   * out[b * m.rows + r] = m.row(r) . x[b * m.cols ..] for b < batch; {@code xt} is x already
   * transposed into blocks ({@link TiledProduct#transpose}) or null (then it is transposed here
   * when the product takes it).
   */
  record Product(WeightMatrix m, float[] x, float[] xt, int batch, float[] out) {
    Product(WeightMatrix m, float[] x, int batch, float[] out) {
      this(m, x, null, batch, out);
    }
  }

  private Matmul() {}

  static void run(WorkerPool pool, Product... products) {
    // Quantized weights take quantized inputs; q, k and v (gate and up) share one.
    Q8Activations[] quantized = new Q8Activations[products.length];
    for (int i = 0; i < products.length; i++) {
      Product p = products[i];
      if (p.m.quantizesInput()) {
        for (int j = 0; j < i && quantized[i] == null; j++) {
          if (products[j].x == p.x
              && quantized[j] != null
              && products[j].m.inputBlock() == p.m.inputBlock()) {
            quantized[i] = quantized[j];
          }
        }
        if (quantized[i] == null) {
          quantized[i] = p.m.quantizeInput(p.x, p.batch);
        }
      }
    }
    // Float weights with many inputs: the batch goes into the vector lanes (TiledProduct), from x
    // transposed once per distinct input.
    float[][] transposed = new float[products.length][];
    for (int i = 0; i < products.length; i++) {
      Product p = products[i];
      if (!p.m.quantizesInput() && p.batch >= TiledProduct.MIN_BATCH) {
        for (int j = 0; j < i && transposed[i] == null; j++) {
          if (products[j].x == p.x && transposed[j] != null && products[j].batch == p.batch) {
            transposed[i] = transposed[j];
          }
        }
        if (transposed[i] == null) {
          transposed[i] = p.xt != null ? p.xt : TiledProduct.transpose(p.x, p.batch, p.m.cols);
        }
      }
    }
    int[] firstTask = new int[products.length + 1];
    for (int i = 0; i < products.length; i++) {
      firstTask[i + 1] = firstTask[i] + (products[i].m.rows + BLOCK_ROWS - 1) / BLOCK_ROWS;
    }
    long work = 0;
    for (Product p : products) {
      work += (long) p.m.rows * p.m.cols * p.batch;
    }
    pool.run(
        firstTask[products.length],
        work,
        (task, s) -> {
          int p = 0;
          while (task >= firstTask[p + 1]) {
            p++;
          }
          Product pr = products[p];
          int start = (task - firstTask[p]) * BLOCK_ROWS;
          int end = Math.min(pr.m.rows, start + BLOCK_ROWS);
          if (transposed[p] != null) {
            float[] w = s.rows(BLOCK_ROWS * pr.m.cols);
            pr.m.decodeRows(start, end - start, w, 0);
            TiledProduct.multiply(
                w,
                end - start,
                pr.m.cols,
                transposed[p],
                pr.batch,
                pr.out,
                pr.m.rows,
                start,
                s.lanes);
            return;
          }
          for (int r = start; r < end; r += WeightMatrix.GROUP) {
            pr.m.multiplyRows(
                r,
                Math.min(WeightMatrix.GROUP, end - r),
                pr.x,
                quantized[p],
                pr.batch,
                pr.out,
                pr.m.rows,
                s);
          }
        });
  }
}
