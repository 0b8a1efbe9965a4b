package quasiroll.worker.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * llama.cpp's converter ({@code LlamaModel.permute} in convert_hf_to_gguf.py) reorders the rows of
 * Llama's q_proj and k_proj (weights and biases) so that ggml's "normal" RoPE, which rotates
 * adjacent pairs (x[2i], x[2i+1]), computes what HF's "neox" RoPE computes on half-split pairs
 * (x[i], x[i + d/2]). Within each head of d rows:
 *
 * <pre>  GGUF row 2i + j  =  HF row j*d/2 + i      (i < d/2, j in {0, 1})</pre>
 *
 * Qwen2 is converted without it (ggml runs Qwen2 with neox RoPE). The permutation moves whole rows,
 * so it works on quantized rows too (a row of a Q8_0/Q4_0 matrix is whole blocks).
 */
public final class QkPermutation {
  private QkPermutation() {}

  /** HF row order -> GGUF row order (what the converter does). */
  public static MemorySegment toGguf(TensorData t, int heads) {
    return permute(t, heads, true);
  }

  /** GGUF row order -> HF row order (what the GGUF loader does for Llama). */
  public static MemorySegment toHf(TensorData t, int heads) {
    return permute(t, heads, false);
  }

  private static MemorySegment permute(TensorData t, int heads, boolean toGguf) {
    long rows = t.shape()[0];
    long cols = t.shape().length > 1 ? t.elements() / rows : 1;
    long rowBytes = t.dtype().bytesFor(cols);
    if (t.shape().length == 1 && t.dtype().blockSize() != 1) {
      throw new IllegalArgumentException("cannot permute a 1-D quantized tensor " + t.name());
    }
    int d = (int) (rows / heads);
    if ((long) d * heads != rows || d % 2 != 0) {
      throw new IllegalArgumentException(
          t.name() + ": " + rows + " rows do not split into " + heads + " heads of even size");
    }
    MemorySegment src = t.segment();
    // a permuted copy off the heap, freed when unreachable (as the mapped tensors are)
    MemorySegment dst = Arena.ofAuto().allocate(src.byteSize(), 64);
    for (int h = 0; h < heads; h++) {
      for (int i = 0; i < d / 2; i++) {
        for (int j = 0; j < 2; j++) {
          long ggufRow = (long) h * d + 2L * i + j;
          long hfRow = (long) h * d + (long) j * d / 2 + i;
          long from = toGguf ? hfRow : ggufRow;
          long to = toGguf ? ggufRow : hfRow;
          MemorySegment.copy(src, from * rowBytes, dst, to * rowBytes, rowBytes);
        }
      }
    }
    return dst.asReadOnly();
  }
}
