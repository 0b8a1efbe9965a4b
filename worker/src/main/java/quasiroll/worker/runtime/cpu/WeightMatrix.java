package quasiroll.worker.runtime.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.TensorData;

/**
 * A read-only view of a [rows, cols] weight tensor in its stored dtype, over the (normally
 * memory-mapped) bytes of the tensor ({@link #seg}): nothing is copied to the heap. Byte offsets
 * into it are long (a tensor may exceed 2 GiB); rows and columns are ints. Subclasses decode rows
 * into floats; the products here multiply a group of at most {@link #GROUP} rows with a whole batch
 * of input vectors, so each weight row is read from memory once per batch.
 */
abstract class WeightMatrix {
  /** Rows decoded and multiplied together; x is loaded once per chunk for all of them. */
  static final int GROUP = 4;

  final String name;
  final int rows;
  final int cols;

  /**
   * The stored rows, little-endian, as the kernels read them: always the same segment class (a
   * native segment of global scope over the tensor's memory, see {@link #kernelSegment}), whatever
   * the tensor came from. It does not keep that memory alive: {@link #owner} does.
   */
  final MemorySegment seg;

  /**
   * The tensor's own segment (a mapping of an automatic arena, or its permuted copy), or a native
   * copy of a heap tensor (tests): held so that the memory {@link #seg} points to stays mapped as
   * long as this matrix is reachable.
   */
  private final MemorySegment owner;

  WeightMatrix(TensorData t) {
    if (t.shape().length != 2 && t.shape().length != 1) {
      throw new BadInputException(
          "tensor '"
              + t.name()
              + "' has rank "
              + t.shape().length
              + "; a matrix or vector is expected");
    }
    this.name = t.name();
    this.rows = t.shape().length == 2 ? Math.toIntExact(t.shape()[0]) : 1;
    this.cols = Math.toIntExact(t.shape()[t.shape().length - 1]);
    if (cols % t.dtype().blockSize() != 0) {
      throw new BadInputException(
          "tensor '"
              + t.name()
              + "' has rows of "
              + cols
              + " values, not a"
              + " multiple of the "
              + t.dtype()
              + " block size "
              + t.dtype().blockSize());
    }
    MemorySegment s = t.segment();
    if (!s.isNative()) {
      s = Arena.ofAuto().allocate(s.byteSize(), 64).copyFrom(s);
    }
    this.owner = s;
    this.seg = kernelSegment(s);
  }

  /**
   * {@code s} (native memory) as a segment of global scope over the same bytes. Why: C2 compiles
   * the JDK's segment access code (bounds and liveness checks, base and offset of the vector loads)
   * with the type profile of its call sites, which every caller in the process shares; when the
   * kernels' segments were of two classes (a memory-mapped file and the permuted q/k copies in
   * native memory), every load went through a bimorphic check and the batch-1 products read weights
   * at 15 GB/s instead of 27 GB/s (F32, 101M weights from memory, JDK 25, Zen 4; see
   * docs/cpu-backend.md). One class for every kernel segment keeps those call sites monomorphic.
   * The caller keeps the memory alive ({@link #owner}).
   */
  static MemorySegment kernelSegment(MemorySegment s) {
    return MemorySegment.ofAddress(s.address()).reinterpret(s.byteSize()).asReadOnly();
  }

  static WeightMatrix of(TensorData t) {
    return switch (t.dtype()) {
      case F32 -> new F32Matrix(t);
      case F16 -> new F16Matrix(t);
      case BF16 -> new Bf16Matrix(t);
      case Q8_0 -> new Q8Matrix(t);
      case Q4_0 -> new Q4Matrix(t);
      case Q4_K -> new Q4KMatrix(t);
      case Q6_K -> new Q6KMatrix(t);
    };
  }

  /** Decodes rows [row, row+n) into dst[dstOff ..) as n consecutive rows of cols floats. */
  abstract void decodeRows(int row, int n, float[] dst, int dstOff);

  /** All values as floats (for small tensors: norms and biases). */
  float[] toFloats() {
    float[] v = new float[rows * cols];
    decodeRows(0, rows, v, 0);
    return v;
  }

  /**
   * The block size of the quantized input products take ({@link Q8Activations}: 32 for Q8_0, 256
   * for Q8_K), or 0 when they take floats.
   */
  int inputBlock() {
    return 0;
  }

  /** Whether products take the input quantized ({@link Q8Activations}) rather than as floats. */
  final boolean quantizesInput() {
    return inputBlock() != 0;
  }

  /** x (batch rows of cols) quantized as this matrix's products take it, or null. */
  final Q8Activations quantizeInput(float[] x, int batch) {
    return switch (inputBlock()) {
      case 0 -> null;
      case Q8Activations.BLOCK -> Q8Activations.quantize(x, batch, cols);
      default -> Q8Activations.quantizeK(x, batch, cols);
    };
  }

  /**
   * out[b * outStride + r] = row r . x[b * cols ..] for r in [row0, row0 + n), n <= GROUP and b <
   * batch; {@code xq} is x quantized when {@link #quantizesInput()}, else null. The arithmetic per
   * (row, b) is fixed, whatever n, batch or the scratch used: for float weights that of {@link
   * VectorKernels#dot}.
   */
  void multiplyRows(
      int row0,
      int n,
      float[] x,
      Q8Activations xq,
      int batch,
      float[] out,
      int outStride,
      WorkerScratch s) {
    float[] w = s.rows(GROUP * cols);
    decodeRows(row0, n, w, 0);
    multiplyDecoded(w, row0, n, x, batch, out, outStride, s);
  }

  final void multiplyDecoded(
      float[] w,
      int row0,
      int n,
      float[] x,
      int batch,
      float[] out,
      int outStride,
      WorkerScratch s) {
    int b = 0;
    if (n == GROUP) {
      // Two inputs at a time: each weight vector loaded from cache once per pair.
      for (; b + 2 <= batch; b += 2) {
        VectorKernels.dot4x2(
            w,
            0,
            cols,
            2 * cols,
            3 * cols,
            x,
            b * cols,
            (b + 1) * cols,
            cols,
            s.lanes,
            out,
            b * outStride + row0,
            (b + 1) * outStride + row0,
            1);
      }
    }
    for (; b < batch; b++) {
      int xo = b * cols;
      int oo = b * outStride + row0;
      if (n == GROUP) {
        VectorKernels.dot4(w, 0, cols, 2 * cols, 3 * cols, x, xo, cols, s.lanes, out, oo, 1);
      } else {
        for (int r = 0; r < n; r++) {
          out[oo + r] = VectorKernels.dot(w, r * cols, x, xo, cols, s.lanes);
        }
      }
    }
  }
}
