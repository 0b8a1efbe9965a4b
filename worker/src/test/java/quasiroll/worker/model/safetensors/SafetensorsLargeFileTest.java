package quasiroll.worker.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.error.BadInputException;

/**
 * Files over 2 GiB map tensor by tensor, and so does one tensor over 2 GiB (a MemorySegment; see
 * also quasiroll.worker.runtime.cpu.TensorsOverTwoGibTest). The files are sparse (only the header
 * and a few bytes are written), so the test needs no disk space.
 */
class SafetensorsLargeFileTest {
  @TempDir Path tmp;

  private static final long GIB = 1L << 30;
  private static final ValueLayout.OfFloat F32 =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private Path sparse(String header, long dataLen, long markerAt, float marker) throws IOException {
    Path p = tmp.resolve("big.safetensors");
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
      f.write(h);
      f.setLength(8 + h.length + dataLen);
      f.seek(8 + h.length + markerAt);
      f.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(marker).array());
    }
    return p;
  }

  @Test
  void tensorsOfAFileOverTwoGibMapOneByOne() throws IOException {
    // three 1 GiB tensors: the file is 3 GiB, each mapping is under 2 GiB
    long n = GIB / 4;
    StringBuilder h = new StringBuilder("{");
    for (int i = 0; i < 3; i++) {
      h.append(i == 0 ? "" : ",")
          .append("\"t")
          .append(i)
          .append("\":{\"dtype\":\"F32\",\"shape\":[")
          .append(n)
          .append("],\"data_offsets\":[")
          .append(i * GIB)
          .append(",")
          .append((i + 1) * GIB)
          .append("]}");
    }
    h.append("}");
    try (SafetensorsFile f = SafetensorsFile.open(sparse(h.toString(), 3 * GIB, 2 * GIB, 7f))) {
      assertEquals(7f, f.tensors().get("t2").segment().get(F32, 0));
      assertEquals(GIB, f.tensors().get("t2").segment().byteSize());
    }
  }

  /** The header of one F32 tensor 'huge' of the given size. */
  private static String hugeTensorHeader(long bytes) {
    return "{\"huge\":{\"dtype\":\"F32\",\"shape\":["
        + (bytes / 4)
        + "],\"data_offsets\":[0,"
        + bytes
        + "]}}";
  }

  @Test
  void singleTensorOverTwoGibMapsWhole() throws IOException {
    long bytes = 3 * GIB;
    String h = hugeTensorHeader(bytes);
    try (SafetensorsFile f = SafetensorsFile.open(sparse(h, bytes, bytes - 4, 5f))) {
      MemorySegment m = f.tensors().get("huge").segment();
      assertEquals(bytes, m.byteSize());
      assertEquals(5f, m.get(F32, bytes - 4));
      assertEquals(0f, m.get(F32, bytes - 8));
    }
  }

  @Test
  void tensorPastTheEndOfTheFileIsNamed() throws IOException {
    long bytes = 3 * GIB;
    Path p = sparse(hugeTensorHeader(bytes), bytes - 4, 0, 1f);
    BadInputException e = assertThrows(BadInputException.class, () -> SafetensorsFile.open(p));
    assertTrue(
        e.getMessage().contains("'huge'") && e.getMessage().contains("outside the data section"),
        e.getMessage());
  }
}
