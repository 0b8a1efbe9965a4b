package quasiroll.worker.model.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import quasiroll.worker.model.DType;

/** Writes a .safetensors file (layout in {@link SafetensorsFile}); for fixtures. */
public final class SafetensorsWriter {
  private record Pending(DType dtype, long[] shape, byte[] data) {}

  private final Map<String, Pending> tensors = new LinkedHashMap<>();

  /**
   * @param data encoded bytes ({@link quasiroll.worker.model.DTypeCodec#encode})
   */
  public SafetensorsWriter add(String name, DType dtype, long[] shape, byte[] data) {
    if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
      throw new IllegalArgumentException("safetensors holds F32/F16/BF16 here, not " + dtype);
    }
    tensors.put(name, new Pending(dtype, shape.clone(), data));
    return this;
  }

  public void write(Path file) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode header = json.createObjectNode();
    header.putObject("__metadata__").put("format", "pt");
    long offset = 0;
    for (Map.Entry<String, Pending> e : tensors.entrySet()) {
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", e.getValue().dtype.name());
      var shape = t.putArray("shape");
      for (long d : e.getValue().shape) {
        shape.add(d);
      }
      var offs = t.putArray("data_offsets");
      offs.add(offset);
      offset += e.getValue().data.length;
      offs.add(offset);
    }
    byte[] headerBytes = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    // pad the header with spaces to 8 bytes, as the reference writer does, so data is aligned
    int padded = (headerBytes.length + 7) / 8 * 8;
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
      out.write(headerBytes);
      out.write(" ".repeat(padded - headerBytes.length).getBytes(StandardCharsets.US_ASCII));
      for (Pending p : tensors.values()) {
        out.write(p.data);
      }
    }
  }
}
