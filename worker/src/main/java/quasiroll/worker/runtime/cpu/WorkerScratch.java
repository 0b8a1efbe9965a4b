package quasiroll.worker.runtime.cpu;

/**
 * Per-worker-thread temporary buffers (decoded weight rows, lane sums, attention scores). Only ever
 * scratch: no result depends on what a buffer held before.
 */
final class WorkerScratch {
  final float[] lanes = new float[VectorKernels.L];
  private float[] rows = new float[0];
  private float[] scores = new float[0];
  private float[] scales = new float[0];
  private byte[] bytes = new byte[0];

  float[] rows(int size) {
    if (rows.length < size) {
      rows = new float[size];
    }
    return rows;
  }

  byte[] bytes(int size) {
    if (bytes.length < size) {
      bytes = new byte[size];
    }
    return bytes;
  }

  float[] scales(int size) {
    if (scales.length < size) {
      scales = new float[size];
    }
    return scales;
  }

  float[] scores(int size) {
    if (scores.length < size) {
      scores = new float[Math.max(size, 2 * scores.length)];
    }
    return scores;
  }
}
