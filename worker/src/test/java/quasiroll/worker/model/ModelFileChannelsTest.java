package quasiroll.worker.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.error.BadInputException;

/** Mapping a tensor's range: the bytes as stored, or bad input naming the tensor. */
class ModelFileChannelsTest {
  @TempDir Path tmp;

  @Test
  void mapsTheRangeAndRefusesOnePastTheEnd() throws IOException {
    Path p = tmp.resolve("t.bin");
    Files.write(p, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      MemorySegment m = ModelFileChannels.map(ch, 2, 6, "t.bin: tensor 'w'");
      assertEquals(6, m.byteSize());
      assertEquals(3, m.get(ValueLayout.JAVA_BYTE, 0));
      assertEquals(8, m.get(ValueLayout.JAVA_BYTE, 5));
      assertTrue(m.isReadOnly());
      assertEquals(0, ModelFileChannels.map(ch, 8, 0, "empty").byteSize());
      for (long[] bad : new long[][] {{2, 7}, {9, 0}, {-1, 4}, {0, -1}, {1, Long.MAX_VALUE}}) {
        BadInputException e =
            assertThrows(
                BadInputException.class,
                () -> ModelFileChannels.map(ch, bad[0], bad[1], "t.bin: tensor 'w'"));
        assertTrue(
            e.getMessage().startsWith("t.bin: tensor 'w' data [")
                && e.getMessage().contains("runs past the end of the file (size 8)"),
            e.getMessage());
      }
    }
  }
}
