package quasiroll.worker.model;

/** Element types of stored weight tensors (safetensors and GGUF). */
public enum DType {
  F32(4, 1),
  F16(2, 1),
  BF16(2, 1),
  /** GGUF Q8_0: blocks of 32 weights = one f16 scale + 32 int8 (34 bytes). */
  Q8_0(34, 32),
  /** GGUF Q4_0: blocks of 32 weights = one f16 scale + 16 bytes of 4-bit pairs (18 bytes). */
  Q4_0(18, 32),
  /**
   * GGUF Q4_K: super-blocks of 256 = f16 d, f16 dmin, 12 bytes of eight 6-bit sub-block scales and
   * eight 6-bit mins, 128 bytes of 4-bit values (144 bytes).
   */
  Q4_K(144, 256),
  /**
   * GGUF Q6_K: super-blocks of 256 = 128 bytes of low 4 bits, 64 bytes of high 2 bits, sixteen int8
   * sub-block scales, f16 d (210 bytes).
   */
  Q6_K(210, 256);

  private final int blockBytes;
  private final int blockSize;

  DType(int blockBytes, int blockSize) {
    this.blockBytes = blockBytes;
    this.blockSize = blockSize;
  }

  /** Bytes that {@code elements} values occupy (elements must be a multiple of the block size). */
  public long bytesFor(long elements) {
    return elements / blockSize * blockBytes;
  }

  public int blockSize() {
    return blockSize;
  }

  public int blockBytes() {
    return blockBytes;
  }
}
