package quasiroll.common.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import quasiroll.common.error.BadInputException;

/**
 * The header of a .safetensors file, checked: u64 little-endian header length N, N bytes of JSON
 * ({@code name -> {dtype, shape, data_offsets: [begin, end)}} plus optional {@code __metadata__}),
 * then the data; offsets are relative to the byte after the header, and each tensor's span must be
 * exactly its dtype size times its element count and lie inside the file. What needs no model to
 * check (the coordinator checks published policies with it; the worker maps the tensors it
 * describes).
 */
public final class SafetensorsHeader {
  /** Bytes per element of the dtypes quasiroll reads. */
  public static final Map<String, Integer> DTYPE_BYTES = Map.of("F32", 4, "F16", 2, "BF16", 2);

  /** safetensors dtype names quasiroll reads, for messages. */
  public static final String SUPPORTED_DTYPES = "F32, F16, BF16";

  /** Headers larger than this are refused (the reference implementation uses 100 MB). */
  public static final long MAX_HEADER = 100L << 20;

  /**
   * One tensor's entry.
   *
   * @param begin absolute file offset of its first byte
   */
  public record Entry(String name, String dtype, long[] shape, long begin, long bytes) {
    public long elements() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  private final Path path;
  private final Map<String, Entry> tensors;

  private SafetensorsHeader(Path path, Map<String, Entry> tensors) {
    this.path = path;
    this.tensors = Collections.unmodifiableMap(tensors);
  }

  public Path path() {
    return path;
  }

  /** Entries by tensor name, in header order. */
  public Map<String, Entry> tensors() {
    return tensors;
  }

  public static SafetensorsHeader read(Path path) {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      return new SafetensorsHeader(path, parse(path, ch));
    } catch (IOException e) {
      throw new BadInputException(path + ": cannot read: " + e.getMessage());
    }
  }

  /** Parses and checks the header of an open file. */
  public static Map<String, Entry> parse(Path path, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw new BadInputException(
          path + ": not a safetensors file: " + size + " bytes, shorter than the 8-byte header");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0);
    long headerLen = lenBuf.getLong(0);
    if (headerLen <= 1 || headerLen > MAX_HEADER) {
      throw new BadInputException(
          path
              + ": bad safetensors header length "
              + Long.toUnsignedString(headerLen)
              + " (must be 2.."
              + MAX_HEADER
              + ")");
    }
    if (8 + headerLen > size) {
      throw new BadInputException(
          path
              + ": safetensors header of "
              + headerLen
              + " bytes runs past the end of the file ("
              + size
              + " bytes); truncated file?");
    }
    ByteBuffer header = ByteBuffer.allocate((int) headerLen);
    readFully(ch, header, 8);
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(header.array());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new BadInputException(
          path + ": safetensors header is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new BadInputException(path + ": safetensors header is not a JSON object");
    }
    long dataStart = 8 + headerLen;
    long dataLen = size - dataStart;
    Map<String, Entry> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) {
        continue;
      }
      out.put(e.getKey(), entry(path, e.getKey(), e.getValue(), dataStart, dataLen));
    }
    return out;
  }

  private static Entry entry(Path path, String name, JsonNode info, long dataStart, long dataLen) {
    String where = path + ": tensor '" + name + "'";
    JsonNode dtypeNode = info.get("dtype");
    JsonNode shapeNode = info.get("shape");
    JsonNode offsets = info.get("data_offsets");
    if (dtypeNode == null
        || !dtypeNode.isTextual()
        || shapeNode == null
        || !shapeNode.isArray()
        || offsets == null
        || !offsets.isArray()
        || offsets.size() != 2) {
      throw new BadInputException(where + " needs dtype, shape and data_offsets [begin, end]");
    }
    Integer width = DTYPE_BYTES.get(dtypeNode.asText());
    if (width == null) {
      throw new BadInputException(
          where
              + " has dtype "
              + dtypeNode.asText()
              + ", which quasiroll does not support"
              + " (supported: "
              + SUPPORTED_DTYPES
              + ")");
    }
    long[] shape = new long[shapeNode.size()];
    long elements = 1;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.canConvertToLong() || d.asLong() < 0) {
        throw new BadInputException(where + " has a bad shape " + shapeNode);
      }
      shape[i] = d.asLong();
      try {
        elements = Math.multiplyExact(elements, shape[i]);
      } catch (ArithmeticException overflow) {
        throw new BadInputException(where + " has an absurd shape " + shapeNode);
      }
    }
    long begin = offsets.get(0).asLong(-1);
    long end = offsets.get(1).asLong(-1);
    if (begin < 0 || end < begin || end > dataLen) {
      throw new BadInputException(
          where
              + " data_offsets ["
              + begin
              + ", "
              + end
              + ") lie outside the data section of "
              + dataLen
              + " bytes; truncated or corrupt file?");
    }
    long need = elements * width;
    if (end - begin != need) {
      throw new BadInputException(
          where
              + " data_offsets span "
              + (end - begin)
              + " bytes but shape "
              + shapeNode
              + " of "
              + dtypeNode.asText()
              + " needs "
              + need);
    }
    return new Entry(name, dtypeNode.asText(), shape, dataStart + begin, end - begin);
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int r = ch.read(buf, pos + buf.position());
      if (r < 0) {
        throw new IOException("unexpected end of file");
      }
    }
  }

  /** A one-tensor header at offset 0, padded with spaces to 8 bytes (as the reference writer). */
  public static byte[] single(String name, String dtype, List<Long> shape, long bytes) {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("dtype", dtype);
    t.put("shape", shape);
    t.put("data_offsets", List.of(0L, bytes));
    byte[] raw;
    try {
      raw = new ObjectMapper().writeValueAsBytes(Map.of(name, t));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    int padded = (raw.length + 7) / 8 * 8;
    ByteBuffer b = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(padded).put(raw);
    while (b.hasRemaining()) {
      b.put((byte) ' ');
    }
    return b.array();
  }
}
