package quasiroll.worker.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.DTypeCodec;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.model.gguf.GgmlType;
import quasiroll.worker.model.gguf.GgufFile;
import quasiroll.worker.model.gguf.GgufTensorInfo;
import quasiroll.worker.model.safetensors.SafetensorsFile;

/**
 * Single tensors over 2 GiB (Llama-3 70B's F16 {@code token_embd} is 2.1 GB), loaded by the real
 * GGUF and safetensors readers from sparse files (only headers and a few rows are written, so the
 * files take no disk space and the test reads a few pages). For every stored dtype the tensor is a
 * [rows, 1024] matrix of just over 2 GiB whose first rows and last rows (past the 2 GiB mark) are
 * non-zero; the embedding lookup ({@link WeightMatrix#decodeRows}) of the last rows must give the
 * reference codec's values exactly, and products of those rows (batch 1 and 2 read the mapped rows
 * directly, batch 3 decodes them first) must be bit-identical to the same rows held in a small
 * in-memory matrix; F32/F16/BF16 rows and inputs are small integers, so their products are also
 * checked against exact integer dot products. A wrong byte offset reads zero rows or other rows,
 * which differ.
 */
class TensorsOverTwoGibTest {
  @TempDir Path tmp;

  private static final long TWO_GIB = 1L << 31;
  private static final int COLS = 1024;

  /** Rows written at each end of a tensor: two full row groups. */
  private static final int WRITTEN = 2 * WeightMatrix.GROUP;

  private static final DType[] GGUF_TYPES = {
    DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K
  };

  /** The fewest rows of COLS values whose bytes exceed 2 GiB, plus a few. */
  private static int rows(DType t) {
    return Math.toIntExact(TWO_GIB / t.bytesFor(COLS) + 3);
  }

  /** Row r's values: integers in [-8, 8], different per row and dtype (exact in every type). */
  private static float[] rowValues(DType t, int r) {
    SplittableRandom rnd = new SplittableRandom(31L * r + t.ordinal());
    float[] v = new float[COLS];
    for (int i = 0; i < COLS; i++) {
      v[i] = rnd.nextInt(17) - 8;
    }
    return v;
  }

  /** The rows written: the first and the last WRITTEN ones. */
  private static List<Integer> writtenRows(int rows) {
    List<Integer> out = new ArrayList<>();
    for (int r = 0; r < WRITTEN; r++) {
      out.add(r);
    }
    for (int r = rows - WRITTEN; r < rows; r++) {
      out.add(r);
    }
    return out;
  }

  @Test
  void ggufTensorsOverTwoGibLoadAndMultiplyExactly() throws IOException {
    Path p = tmp.resolve("big.gguf");
    Map<DType, Long> offsets = writeSparseGguf(p);
    try (GgufFile f = GgufFile.open(p)) {
      assertTrue(f.fileSize() > GGUF_TYPES.length * TWO_GIB, "file size " + f.fileSize());
      for (GgufTensorInfo info : f.tensors()) {
        TensorData t = f.map(info, info.name());
        DType dtype = t.dtype();
        assertEquals(dtype.bytesFor(t.elements()), t.segment().byteSize(), info.name());
        assertTrue(t.segment().byteSize() > TWO_GIB, info.name());
        checkTensor(t);
      }
      assertEquals(GGUF_TYPES.length, offsets.size());
    } finally {
      Files.deleteIfExists(p);
    }
  }

  @Test
  void safetensorsTensorsOverTwoGibLoadAndMultiplyExactly() throws IOException {
    Path p = tmp.resolve("big.safetensors");
    DType[] types = {DType.BF16, DType.F32};
    StringBuilder h = new StringBuilder("{");
    long at = 0;
    long[] begin = new long[types.length];
    for (int i = 0; i < types.length; i++) {
      long bytes = types[i].bytesFor((long) rows(types[i]) * COLS);
      begin[i] = at;
      h.append(i == 0 ? "" : ",")
          .append(
              String.format(
                  "\"w%d\":{\"dtype\":\"%s\",\"shape\":[%d,%d],\"data_offsets\":[%d,%d]}",
                  i, types[i], rows(types[i]), COLS, at, at + bytes));
      at += bytes;
    }
    h.append("}");
    byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
    long dataStart = 8 + header.length;
    try (RandomAccessFile f = open(p, dataStart + at)) {
      f.write(le(8).putLong(header.length).array());
      f.write(header);
      for (int i = 0; i < types.length; i++) {
        writeRows(f, types[i], dataStart + begin[i]);
      }
    }
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      for (int i = 0; i < types.length; i++) {
        TensorData t = f.tensors().get("w" + i);
        assertEquals(types[i], t.dtype());
        assertTrue(t.segment().byteSize() > TWO_GIB);
        checkTensor(t);
      }
    } finally {
      Files.deleteIfExists(p);
    }
  }

  /** Lookups and products of the last rows (past 2 GiB) and the first rows, checked exactly. */
  private static void checkTensor(TensorData t) {
    DType dtype = t.dtype();
    int rows = Math.toIntExact(t.shape()[0]);
    assertEquals(rows(dtype), rows, t.name());
    // the last rows lie wholly past the 2 GiB mark
    assertTrue((long) (rows - 2) * dtype.bytesFor(COLS) >= TWO_GIB, t.name() + " rows " + rows);
    WeightMatrix big = WeightMatrix.of(t);
    for (int end = 0; end < 2; end++) {
      int first = end == 0 ? 0 : rows - WRITTEN;
      // the embedding lookup of each row, as CpuTransformer does it
      byte[] bytes = new byte[Math.toIntExact(dtype.bytesFor((long) WRITTEN * COLS))];
      for (int k = 0; k < WRITTEN; k++) {
        int r = first + k;
        byte[] row = DTypeCodec.encode(dtype, rowValues(dtype, r));
        System.arraycopy(row, 0, bytes, k * row.length, row.length);
        float[] want = DTypeCodec.decode(dtype, MemorySegment.ofArray(row), COLS);
        float[] got = new float[COLS];
        big.decodeRows(r, 1, got, 0);
        assertArrayEquals(want, got, 0f, dtype + " row " + r + " of " + rows);
        if (dtype.blockSize() == 1) {
          assertArrayEquals(rowValues(dtype, r), got, 0f, dtype + " row " + r);
        }
      }
      // the same rows in a small matrix on the heap: products must be bit-identical
      WeightMatrix small =
          WeightMatrix.of(
              new TensorData(
                  "small", dtype, new long[] {WRITTEN, COLS}, MemorySegment.ofArray(bytes)));
      float[] decoded = new float[WRITTEN * COLS];
      big.decodeRows(first, WRITTEN, decoded, 0);
      assertArrayEquals(small.toFloats(), decoded, 0f, dtype + " rows " + first + "..");
      for (int batch = 1; batch <= 3; batch++) {
        float[] x = new float[batch * COLS];
        SplittableRandom rnd = new SplittableRandom(batch);
        for (int i = 0; i < x.length; i++) {
          x[i] = rnd.nextInt(17) - 8;
        }
        float[] out = multiply(big, first, x, batch, rows);
        float[] ref = multiply(small, 0, x, batch, WRITTEN);
        for (int b = 0; b < batch; b++) {
          for (int k = 0; k < WRITTEN; k++) {
            float got = out[b * rows + first + k];
            String what = dtype + " row " + (first + k) + " input " + b + " of " + batch;
            assertEquals(
                Float.floatToRawIntBits(ref[b * WRITTEN + k]), Float.floatToRawIntBits(got), what);
            if (dtype.blockSize() == 1) {
              // integers below 2^24 at every step: exact whatever the order of the sums
              float[] w = rowValues(dtype, first + k);
              long dot = 0;
              for (int i = 0; i < COLS; i++) {
                dot += (long) w[i] * (long) x[b * COLS + i];
              }
              assertEquals((float) dot, got, 0f, what);
            }
          }
        }
      }
    }
  }

  /** Rows [first, first + WRITTEN) times the batch, in row groups as Matmul runs them. */
  private static float[] multiply(WeightMatrix m, int first, float[] x, int batch, int stride) {
    float[] out = new float[batch * stride];
    WorkerScratch s = new WorkerScratch();
    Q8Activations xq = m.quantizeInput(x, batch);
    m.multiplyRows(first, WeightMatrix.GROUP, x, xq, batch, out, stride, s);
    // a short group too (n < GROUP), as at the end of a matrix
    m.multiplyRows(first + WeightMatrix.GROUP, 1, x, xq, batch, out, stride, s);
    m.multiplyRows(
        first + WeightMatrix.GROUP + 1, WeightMatrix.GROUP - 1, x, xq, batch, out, stride, s);
    return out;
  }

  /** A GGUF v3 with one [rows, COLS] tensor per type, each over 2 GiB; returns data offsets. */
  private Map<DType, Long> writeSparseGguf(Path p) throws IOException {
    ByteBuffer h = le(1 << 16);
    h.putInt(GgufFile.MAGIC).putInt(3).putLong(GGUF_TYPES.length).putLong(0);
    Map<DType, Long> offsets = new LinkedHashMap<>();
    long at = 0;
    for (DType t : GGUF_TYPES) {
      byte[] name = ("w." + t).getBytes(StandardCharsets.UTF_8);
      h.putLong(name.length).put(name).putInt(2).putLong(COLS).putLong(rows(t));
      h.putInt(GgmlType.fromDType(t)).putLong(at);
      offsets.put(t, at);
      long bytes = t.bytesFor((long) rows(t) * COLS);
      at +=
          (bytes + GgufFile.DEFAULT_ALIGNMENT - 1)
              / GgufFile.DEFAULT_ALIGNMENT
              * GgufFile.DEFAULT_ALIGNMENT;
    }
    long dataStart =
        (h.position() + GgufFile.DEFAULT_ALIGNMENT - 1)
            / GgufFile.DEFAULT_ALIGNMENT
            * GgufFile.DEFAULT_ALIGNMENT;
    try (RandomAccessFile f = open(p, dataStart + at)) {
      f.write(h.array(), 0, h.position());
      for (DType t : GGUF_TYPES) {
        writeRows(f, t, dataStart + offsets.get(t));
      }
    }
    return offsets;
  }

  /** Writes the non-zero rows of a tensor of type t starting at file offset start. */
  private static void writeRows(RandomAccessFile f, DType t, long start) throws IOException {
    long rowBytes = t.bytesFor(COLS);
    for (int r : writtenRows(rows(t))) {
      f.seek(start + r * rowBytes);
      f.write(DTypeCodec.encode(t, rowValues(t, r)));
    }
  }

  /** A sparse file of the given length, or the test is skipped if the filesystem has none. */
  private static RandomAccessFile open(Path p, long length) throws IOException {
    RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw");
    try {
      f.setLength(length);
    } catch (IOException e) {
      f.close();
      Files.deleteIfExists(p);
      Assumptions.abort(
          "the temp filesystem cannot hold a sparse file of " + length + " bytes: " + e);
    }
    return f;
  }

  private static ByteBuffer le(int n) {
    return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
  }
}
