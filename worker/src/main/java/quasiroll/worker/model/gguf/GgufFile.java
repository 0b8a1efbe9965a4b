package quasiroll.worker.model.gguf;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.ModelFileChannels;
import quasiroll.worker.model.TensorData;

/**
 * A parsed GGUF v2/v3 file (ggml docs/gguf.md): header, metadata, tensor infos, and the data
 * section, whose tensors are memory-mapped one range each on demand as {@link
 * java.lang.foreign.MemorySegment}s, so files and single tensors over 2 GiB work (Llama-3 70B's F16
 * {@code token_embd.weight} is 2.1 GB).
 *
 * <p>Layout: magic "GGUF", u32 version, u64 tensor count, u64 kv count, the KVs, the tensor infos
 * (name, u32 n_dims, u64 dims innermost first, u32 type, u64 offset), padding to {@code
 * general.alignment} (default 32), then the data; every tensor offset is relative to the data start
 * and a multiple of the alignment.
 */
public final class GgufFile implements AutoCloseable {
  public static final int MAGIC = 0x46554747; // "GGUF" little-endian
  public static final int DEFAULT_ALIGNMENT = 32;

  private final Path path;
  private final FileChannel channel;
  private final int version;
  private final GgufMetadata metadata;
  private final List<GgufTensorInfo> tensors;
  private final long dataStart;
  private final long fileSize;

  private GgufFile(
      Path path,
      FileChannel channel,
      int version,
      GgufMetadata metadata,
      List<GgufTensorInfo> tensors,
      long dataStart,
      long fileSize) {
    this.path = path;
    this.channel = channel;
    this.version = version;
    this.metadata = metadata;
    this.tensors = tensors;
    this.dataStart = dataStart;
    this.fileSize = fileSize;
  }

  public static GgufFile open(Path path) {
    return ModelFileChannels.open(path, "GGUF", ch -> parse(path, ch));
  }

  private static GgufFile parse(Path path, FileChannel ch) throws IOException {
    ChannelInput in = new ChannelInput(ch, path);
    if (in.size() < 4) {
      throw new BadInputException(path + ": not a GGUF file (only " + in.size() + " bytes)");
    }
    int magic = in.i32("magic");
    if (magic != MAGIC) {
      throw new BadInputException(
          path
              + ": not a GGUF file: bad magic 0x"
              + Integer.toHexString(magic)
              + " (expected the bytes 'GGUF')");
    }
    int version = in.i32("version");
    if (version != 2 && version != 3) {
      throw new BadInputException(
          path + ": unsupported GGUF version " + version + " (supported: 2, 3)");
    }
    long tensorCount = in.length("tensor count", 8 + 4 + 4 + 8);
    long kvCount = in.length("metadata count", 8 + 4 + 1);
    Map<String, Object> kv = new LinkedHashMap<>();
    for (long i = 0; i < kvCount; i++) {
      String key = in.string("metadata key #" + i);
      int typeId = in.i32("type of '" + key + "'");
      kv.put(key, readValue(in, path, key, typeId));
    }
    GgufMetadata metadata = new GgufMetadata(path, kv);
    int alignment = metadata.getInt("general.alignment", DEFAULT_ALIGNMENT);
    if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
      throw new BadInputException(
          path + ": general.alignment = " + alignment + " is not a positive power of two");
    }
    List<GgufTensorInfo> infos = new ArrayList<>();
    for (long i = 0; i < tensorCount; i++) {
      String name = in.string("tensor name #" + i);
      int nDims = in.i32("n_dims of " + name);
      if (nDims < 1 || nDims > 4) {
        throw new BadInputException(
            path + ": tensor '" + name + "' has " + nDims + " dimensions (GGUF allows 1..4)");
      }
      long[] dims = new long[nDims];
      for (int d = 0; d < nDims; d++) {
        dims[d] = in.i64("dim " + d + " of " + name);
        if (dims[d] <= 0) {
          throw new BadInputException(
              path + ": tensor '" + name + "' has dimension " + dims[d] + " (must be > 0)");
        }
      }
      int type = in.i32("type of " + name);
      long offset = in.i64("offset of " + name);
      infos.add(new GgufTensorInfo(name, dims, type, offset));
    }
    long pos = in.position();
    long dataStart = (pos + alignment - 1) / alignment * alignment;
    long fileSize = in.size();
    for (GgufTensorInfo t : infos) {
      checkRange(path, t, dataStart, fileSize, alignment);
    }
    return new GgufFile(
        path, ch, version, metadata, Collections.unmodifiableList(infos), dataStart, fileSize);
  }

  private static void checkRange(
      Path path, GgufTensorInfo t, long dataStart, long fileSize, int alignment) {
    long elements;
    try {
      elements = t.elements();
    } catch (ArithmeticException e) {
      throw new BadInputException(path + ": tensor '" + t.name() + "' has absurd dimensions");
    }
    if (t.offset() < 0 || t.offset() % alignment != 0) {
      throw new BadInputException(
          path
              + ": tensor '"
              + t.name()
              + "' offset "
              + t.offset()
              + " is not a multiple of the alignment "
              + alignment);
    }
    DType dt = GgmlType.toDType(t.type());
    if (dt == null) {
      return; // refused by name when the tensor is used, not when listed (inspect shows it)
    }
    if (elements % dt.blockSize() != 0 || t.dims()[0] % dt.blockSize() != 0) {
      throw new BadInputException(
          path
              + ": tensor '"
              + t.name()
              + "' of type "
              + dt
              + " has row length "
              + t.dims()[0]
              + ", not a multiple of the block size "
              + dt.blockSize());
    }
    long bytes = dt.bytesFor(elements);
    long end = dataStart + t.offset() + bytes;
    if (end > fileSize || end < 0) {
      throw new BadInputException(
          path
              + ": tensor '"
              + t.name()
              + "' data ["
              + (dataStart + t.offset())
              + ", "
              + end
              + ") runs past the end of the file (size "
              + fileSize
              + "); truncated file?");
    }
  }

  private static Object readValue(ChannelInput in, Path path, String key, int typeId) {
    GgufValueType type = GgufValueType.of(typeId);
    if (type == null) {
      throw new BadInputException(
          path + ": metadata '" + key + "' has unknown value type " + typeId + " (known: 0..12)");
    }
    return switch (type) {
      case UINT8 -> in.u8(key);
      case INT8 -> (int) (byte) in.u8(key);
      case UINT16 -> in.i16(key) & 0xffff;
      case INT16 -> (int) in.i16(key);
      case UINT32 -> in.i32(key) & 0xffffffffL;
      case INT32 -> in.i32(key);
      case FLOAT32 -> in.f32(key);
      case BOOL -> in.u8(key) != 0;
      case STRING -> in.string(key);
      case UINT64, INT64 -> in.i64(key);
      case FLOAT64 -> in.f64(key);
      case ARRAY -> {
        int elemId = in.i32("element type of '" + key + "'");
        GgufValueType elem = GgufValueType.of(elemId);
        if (elem == null) {
          throw new BadInputException(
              path + ": metadata array '" + key + "' has unknown element type " + elemId);
        }
        long n = in.length("length of array '" + key + "'", elem.minBytes);
        List<Object> list = new ArrayList<>((int) Math.min(n, 1 << 20));
        for (long i = 0; i < n; i++) {
          list.add(readValue(in, path, key, elemId));
        }
        yield Collections.unmodifiableList(list);
      }
    };
  }

  public Path path() {
    return path;
  }

  public int version() {
    return version;
  }

  public GgufMetadata metadata() {
    return metadata;
  }

  public List<GgufTensorInfo> tensors() {
    return tensors;
  }

  public long dataStart() {
    return dataStart;
  }

  public long fileSize() {
    return fileSize;
  }

  /**
   * Maps one tensor read-only and returns it with PyTorch (outermost-first) shape under {@code
   * name}.
   */
  public TensorData map(GgufTensorInfo t, String name) {
    DType dt = GgmlType.toDType(t.type());
    if (dt == null) {
      throw new BadInputException(
          path
              + ": tensor '"
              + t.name()
              + "' has type "
              + GgmlType.name(t.type())
              + ", which quasiroll does not support (supported: "
              + GgmlType.SUPPORTED
              + "); re-quantize the model to one of those");
    }
    long bytes = dt.bytesFor(t.elements());
    String what = path + ": tensor '" + t.name() + "'";
    long[] shape = new long[t.dims().length];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = t.dims()[shape.length - 1 - i];
    }
    return new TensorData(
        name, dt, shape, ModelFileChannels.map(channel, dataStart + t.offset(), bytes, what));
  }

  @Override
  public void close() {
    ModelFileChannels.closeQuietly(channel);
  }
}
