package quasiroll.worker.runtime.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * How a host range of any size is cut for copies that take a {@link java.nio.ByteBuffer} (JCuda's
 * {@code Pointer.to}), which holds at most 2 GiB: consecutive chunks of at most {@link #MAX_BYTES}
 * that cover {@code [0, bytes)} exactly, in order. A weight tensor over 2 GiB (Llama-3 70B's F16
 * embedding is 2.1 GB) is uploaded chunk by chunk to consecutive device offsets.
 */
final class HostChunks {
  private HostChunks() {}

  /** 1 GiB: well inside a ByteBuffer, and few enough copies that their overhead is nothing. */
  static final long MAX_BYTES = 1L << 30;

  /** A chunk: {@code bytes} bytes at {@code offset} of the host range (and of the device one). */
  record Chunk(long offset, long bytes) {}

  static List<Chunk> of(long bytes) {
    return of(bytes, MAX_BYTES);
  }

  /**
   * @throws IllegalArgumentException if bytes is negative or max is not positive
   */
  static List<Chunk> of(long bytes, long max) {
    if (bytes < 0 || max <= 0) {
      throw new IllegalArgumentException("bytes " + bytes + " and chunk size " + max);
    }
    List<Chunk> out = new ArrayList<>();
    for (long off = 0; off < bytes; off += max) {
      out.add(new Chunk(off, Math.min(max, bytes - off)));
    }
    return out;
  }
}
