package quasiroll.worker.model.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.ModelFileChannels;
import quasiroll.worker.model.TensorData;

/**
 * One .safetensors file: u64 little-endian header length N, N bytes of JSON ({@code name ->
 * {dtype, shape, data_offsets: [begin, end)}} plus optional {@code __metadata__}), then the
 * data; offsets are relative to the byte after the header. Each tensor is memory-mapped as its
 * own range, so files over 2 GiB work; a single tensor over 2 GiB is refused.
 */
public final class SafetensorsFile implements AutoCloseable {
  /** safetensors dtype names quasiroll reads. */
  public static final String SUPPORTED_DTYPES = "F32, F16, BF16";

  /** Headers larger than this are refused (the reference implementation uses 100 MB). */
  private static final long MAX_HEADER = 100L << 20;

  private final Path path;
  private final FileChannel channel;
  private final Map<String, TensorData> tensors;

  private SafetensorsFile(Path path, FileChannel channel, Map<String, TensorData> tensors) {
    this.path = path;
    this.channel = channel;
    this.tensors = tensors;
  }

  public static SafetensorsFile open(Path path) {
    return ModelFileChannels.open(path, "safetensors", ch -> new SafetensorsFile(path, ch, parse(path, ch)));
  }

  private static Map<String, TensorData> parse(Path path, FileChannel ch) throws IOException {
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
          path + ": bad safetensors header length " + Long.toUnsignedString(headerLen)
              + " (must be 2.." + MAX_HEADER + ")");
    }
    if (8 + headerLen > size) {
      throw new BadInputException(
          path + ": safetensors header of " + headerLen + " bytes runs past the end of the file ("
              + size + " bytes); truncated file?");
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
    Map<String, TensorData> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      if (name.equals("__metadata__")) {
        continue;
      }
      out.put(name, tensor(path, ch, name, e.getValue(), dataStart, dataLen));
    }
    return out;
  }

  private static TensorData tensor(
      Path path, FileChannel ch, String name, JsonNode info, long dataStart, long dataLen)
      throws IOException {
    String where = path + ": tensor '" + name + "'";
    JsonNode dtypeNode = info.get("dtype");
    JsonNode shapeNode = info.get("shape");
    JsonNode offsets = info.get("data_offsets");
    if (dtypeNode == null || !dtypeNode.isTextual() || shapeNode == null || !shapeNode.isArray()
        || offsets == null || !offsets.isArray() || offsets.size() != 2) {
      throw new BadInputException(where + " needs dtype, shape and data_offsets [begin, end]");
    }
    DType dtype =
        switch (dtypeNode.asText()) {
          case "F32" -> DType.F32;
          case "F16" -> DType.F16;
          case "BF16" -> DType.BF16;
          default -> throw new BadInputException(
              where + " has dtype " + dtypeNode.asText() + ", which quasiroll does not support"
                  + " (supported: " + SUPPORTED_DTYPES + ")");
        };
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
          where + " data_offsets [" + begin + ", " + end + ") lie outside the data section of "
              + dataLen + " bytes; truncated or corrupt file?");
    }
    if (end - begin != dtype.bytesFor(elements)) {
      throw new BadInputException(
          where + " data_offsets span " + (end - begin) + " bytes but shape " + shapeNode + " of "
              + dtype + " needs " + dtype.bytesFor(elements));
    }
    return new TensorData(name, dtype, shape, ModelFileChannels.mapLittleEndian(ch, dataStart + begin, end - begin, where));
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int r = ch.read(buf, pos + buf.position());
      if (r < 0) {
        throw new IOException("unexpected end of file");
      }
    }
  }

  public Path path() {
    return path;
  }

  /** Tensors by the names in the file, in header order. */
  public Map<String, TensorData> tensors() {
    return tensors;
  }

  @Override
  public void close() {
    ModelFileChannels.closeQuietly(channel);
  }
}
