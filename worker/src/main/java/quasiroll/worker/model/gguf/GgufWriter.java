package quasiroll.worker.model.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import quasiroll.worker.model.DType;

/**
 * Writes GGUF v3 files (the layout {@link GgufFile} documents). Used by the fixture writers;
 * metadata is written in insertion order, tensors in insertion order at aligned offsets.
 */
public final class GgufWriter {
  private final ByteArrayOutputStream kv = new ByteArrayOutputStream();
  private int kvCount;
  private final List<PendingTensor> tensors = new ArrayList<>();
  private final int alignment = GgufFile.DEFAULT_ALIGNMENT;

  private record PendingTensor(String name, long[] ggmlDims, int type, byte[] data) {}

  private void key(String key, GgufValueType type) {
    writeString(kv, key);
    writeI32(kv, type.ordinal());
    kvCount++;
  }

  public GgufWriter putString(String key, String value) {
    key(key, GgufValueType.STRING);
    writeString(kv, value);
    return this;
  }

  public GgufWriter putU32(String key, int value) {
    key(key, GgufValueType.UINT32);
    writeI32(kv, value);
    return this;
  }

  public GgufWriter putI32(String key, int value) {
    key(key, GgufValueType.INT32);
    writeI32(kv, value);
    return this;
  }

  public GgufWriter putF32(String key, float value) {
    key(key, GgufValueType.FLOAT32);
    writeI32(kv, Float.floatToRawIntBits(value));
    return this;
  }

  public GgufWriter putBool(String key, boolean value) {
    key(key, GgufValueType.BOOL);
    kv.write(value ? 1 : 0);
    return this;
  }

  public GgufWriter putStringArray(String key, List<String> values) {
    key(key, GgufValueType.ARRAY);
    writeI32(kv, GgufValueType.STRING.ordinal());
    writeI64(kv, values.size());
    for (String s : values) {
      writeString(kv, s);
    }
    return this;
  }

  public GgufWriter putI32Array(String key, int[] values) {
    key(key, GgufValueType.ARRAY);
    writeI32(kv, GgufValueType.INT32.ordinal());
    writeI64(kv, values.length);
    for (int v : values) {
      writeI32(kv, v);
    }
    return this;
  }

  public GgufWriter putF32Array(String key, float[] values) {
    key(key, GgufValueType.ARRAY);
    writeI32(kv, GgufValueType.FLOAT32.ordinal());
    writeI64(kv, values.length);
    for (float v : values) {
      writeI32(kv, Float.floatToRawIntBits(v));
    }
    return this;
  }

  /**
   * Adds a tensor.
   *
   * @param shape PyTorch order (outermost first); written reversed, as ggml wants
   * @param data the encoded bytes ({@link quasiroll.worker.model.DTypeCodec#encode})
   */
  public GgufWriter addTensor(String name, long[] shape, DType dtype, byte[] data) {
    long[] dims = new long[shape.length];
    for (int i = 0; i < shape.length; i++) {
      dims[i] = shape[shape.length - 1 - i];
    }
    tensors.add(new PendingTensor(name, dims, GgmlType.fromDType(dtype), data));
    return this;
  }

  /** A tensor of any ggml type id, bytes as given (tests write types quasiroll refuses). */
  GgufWriter addRawTensor(String name, long[] shape, int ggmlType, byte[] data) {
    long[] dims = new long[shape.length];
    for (int i = 0; i < shape.length; i++) {
      dims[i] = shape[shape.length - 1 - i];
    }
    tensors.add(new PendingTensor(name, dims, ggmlType, data));
    return this;
  }

  public void write(Path file) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    writeI32(head, GgufFile.MAGIC);
    writeI32(head, 3);
    writeI64(head, tensors.size());
    writeI64(head, kvCount);
    kv.writeTo(head);
    long offset = 0;
    for (PendingTensor t : tensors) {
      writeString(head, t.name);
      writeI32(head, t.ggmlDims.length);
      for (long d : t.ggmlDims) {
        writeI64(head, d);
      }
      writeI32(head, t.type);
      writeI64(head, offset);
      offset = align(offset + t.data.length);
    }
    try (OutputStream out = Files.newOutputStream(file)) {
      head.writeTo(out);
      out.write(new byte[(int) (align(head.size()) - head.size())]);
      for (PendingTensor t : tensors) {
        out.write(t.data);
        out.write(new byte[(int) (align(t.data.length) - t.data.length)]);
      }
    }
  }

  private long align(long n) {
    return (n + alignment - 1) / alignment * alignment;
  }

  private static void writeString(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    writeI64(out, b.length);
    out.writeBytes(b);
  }

  private static void writeI32(ByteArrayOutputStream out, int v) {
    out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
  }

  private static void writeI64(ByteArrayOutputStream out, long v) {
    out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
  }
}
