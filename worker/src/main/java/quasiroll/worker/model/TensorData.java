package quasiroll.worker.model;

import java.lang.foreign.MemorySegment;

/**
 * One stored tensor: a read-only view of its bytes, little-endian as every supported format stores
 * them, normally a slice of a memory-mapped file (weights are never copied onto the Java heap).
 * {@code segment} is a {@link MemorySegment}, so a tensor may exceed 2 GiB (Llama-3 70B's F16
 * {@code token_embd} is 2.1 GB); offsets into it are {@code long}. {@code shape} is in row-major
 * order, outermost first, as in safetensors / PyTorch ({@code [rows, cols]} for a Linear weight of
 * {@code out x in}); GGUF's innermost-first dims are reversed on load.
 */
public record TensorData(String name, DType dtype, long[] shape, MemorySegment segment) {
  public long elements() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
