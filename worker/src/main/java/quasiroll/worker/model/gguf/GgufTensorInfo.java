package quasiroll.worker.model.gguf;

/**
 * One tensor-info entry of a GGUF header.
 *
 * @param dims ggml order: innermost (contiguous) dimension first, the reverse of PyTorch's
 * @param type ggml type id ({@link GgmlType})
 * @param offset bytes from the start of the aligned data section
 */
public record GgufTensorInfo(String name, long[] dims, int type, long offset) {
  public long elements() {
    long n = 1;
    for (long d : dims) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }
}
