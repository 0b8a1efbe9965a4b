package quasiroll.worker.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The chunks of a host upload cover the range exactly, in order, each within a ByteBuffer. */
class HostChunksTest {
  @Test
  void chunksTileTheRangeExactly() {
    long[] sizes = {0, 1, 7, 8, 9, 16, 17, 1000};
    for (long size : sizes) {
      List<HostChunks.Chunk> c = HostChunks.of(size, 8);
      long at = 0;
      for (HostChunks.Chunk k : c) {
        assertEquals(at, k.offset(), "size " + size);
        assertTrue(k.bytes() > 0 && k.bytes() <= 8, "size " + size + ": " + k);
        at += k.bytes();
      }
      assertEquals(size, at);
      assertEquals((size + 7) / 8, c.size());
    }
  }

  @Test
  void aTensorOverTwoGibIsCutIntoByteBufferSizedChunks() {
    long bytes = 128256L * 8192 * 2; // Llama-3 70B's F16 embedding: 2.1 GB
    List<HostChunks.Chunk> c = HostChunks.of(bytes);
    assertEquals(2, c.size());
    assertEquals(new HostChunks.Chunk(0, 1L << 30), c.get(0));
    assertEquals(new HostChunks.Chunk(1L << 30, bytes - (1L << 30)), c.get(1));
    assertTrue(c.get(1).bytes() <= Integer.MAX_VALUE);
    assertEquals(3, HostChunks.of(2 * HostChunks.MAX_BYTES + 1).size());
  }

  @Test
  void badSizesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> HostChunks.of(-1, 8));
    assertThrows(IllegalArgumentException.class, () -> HostChunks.of(8, 0));
  }
}
