package quasiroll.worker.model.safetensors;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import quasiroll.common.safetensors.SafetensorsHeader;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.ModelFileChannels;
import quasiroll.worker.model.TensorData;

/**
 * One .safetensors file: u64 little-endian header length N, N bytes of JSON ({@code name -> {dtype,
 * shape, data_offsets: [begin, end)}} plus optional {@code __metadata__}), then the data; offsets
 * are relative to the byte after the header. Each tensor is memory-mapped as its own range (a
 * {@link java.lang.foreign.MemorySegment}), so files and single tensors over 2 GiB work.
 */
public final class SafetensorsFile implements AutoCloseable {
  /** safetensors dtype names quasiroll reads. */
  public static final String SUPPORTED_DTYPES = SafetensorsHeader.SUPPORTED_DTYPES;

  private final Path path;
  private final FileChannel channel;
  private final Map<String, TensorData> tensors;

  private SafetensorsFile(Path path, FileChannel channel, Map<String, TensorData> tensors) {
    this.path = path;
    this.channel = channel;
    this.tensors = tensors;
  }

  public static SafetensorsFile open(Path path) {
    return ModelFileChannels.open(
        path, "safetensors", ch -> new SafetensorsFile(path, ch, parse(path, ch)));
  }

  /** The header is checked by {@link SafetensorsHeader}; each tensor is then mapped. */
  private static Map<String, TensorData> parse(Path path, FileChannel ch) throws IOException {
    Map<String, TensorData> out = new LinkedHashMap<>();
    for (SafetensorsHeader.Entry e : SafetensorsHeader.parse(path, ch).values()) {
      DType dtype =
          switch (e.dtype()) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            default ->
                throw new IllegalStateException("SafetensorsHeader admitted dtype " + e.dtype());
          };
      String where = path + ": tensor '" + e.name() + "'";
      out.put(
          e.name(),
          new TensorData(
              e.name(), dtype, e.shape(), ModelFileChannels.map(ch, e.begin(), e.bytes(), where)));
    }
    return out;
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
