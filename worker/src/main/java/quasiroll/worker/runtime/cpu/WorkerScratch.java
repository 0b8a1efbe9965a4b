package quasiroll.worker.runtime.cpu;

/**
 * Per-worker-thread temporary buffers (decoded weight rows, lane sums, attention scores). Only ever
 * scratch: no result depends on what a buffer held before.
 */
final class WorkerScratch {
  final float[] lanes = new float[VectorKernels.L];
  final float[] pair = new float[2];

  /** Per-super-block int lane sums of the K-quant batch-1 kernels (a few vectors' worth). */
  final int[] blockLanes = new int[8 * VectorKernels.L];

  private float[] weights = new float[0];
  private int[] ints = new int[0];
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

  float[] weights(int size) {
    if (weights.length < size) {
      weights = new float[size];
    }
    return weights;
  }

  int[] ints(int size) {
    if (ints.length < size) {
      ints = new int[size];
    }
    return ints;
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
