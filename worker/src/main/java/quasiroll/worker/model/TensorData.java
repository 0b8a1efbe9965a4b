package quasiroll.worker.model;

import java.nio.ByteBuffer;

/**
 * One stored tensor: a read-only little-endian view of its bytes, normally a slice of a
 * memory-mapped file (weights are never copied onto the Java heap). {@code shape} is in row-major
 * order, outermost first, as in safetensors / PyTorch ({@code [rows, cols]} for a Linear weight of
 * {@code out x in}); GGUF's innermost-first dims are reversed on load.
 */
public record TensorData(String name, DType dtype, long[] shape, ByteBuffer data) {
  public long elements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
