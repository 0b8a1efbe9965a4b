package quasiroll.worker.runtime.cpu;

/**
 * Keys and values (f32) of consecutive positions [start, start + capacity) of one sequence for
 * every layer. A session holds one prefix segment (the prompt, shared read-only by all its
 * sequences) and one tail segment per live sequence.
 */
final class KvSegment {
  final int start;
  final int capacity;
  final int kvDim;
  final float[][] keys;
  final float[][] values;

  /** Positions written so far (start + length is the next free position). */
  int length;

  KvSegment(int layers, int start, int capacity, int kvDim) {
    this.start = start;
    this.capacity = capacity;
    this.kvDim = kvDim;
    this.keys = new float[layers][capacity * kvDim];
    this.values = new float[layers][capacity * kvDim];
  }
}
