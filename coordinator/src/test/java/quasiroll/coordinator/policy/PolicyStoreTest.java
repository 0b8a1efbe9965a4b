package quasiroll.coordinator.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.error.BadInputException;
import quasiroll.v1.TensorChunk;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.DTypeCodec;
import quasiroll.worker.model.safetensors.SafetensorsFile;
import quasiroll.worker.model.safetensors.SafetensorsWriter;

class PolicyStoreTest {
  @TempDir Path data;

  private void writeDir(String rel, String... names) throws Exception {
    Path d = Files.createDirectories(data.resolve(rel));
    SafetensorsWriter w = new SafetensorsWriter();
    for (String n : names) {
      w.add(n, DType.F32, new long[] {2}, DTypeCodec.encode(DType.F32, new float[] {1, 2}));
    }
    w.write(d.resolve("model.safetensors"));
  }

  @Test
  void directorySourcesAreCheckedAndVersionsOverlayForPartialPublishes() throws Exception {
    PolicyStore store = new PolicyStore(data);
    writeDir("step1", "a", "b");
    var s1 = store.stageDirectory("demo", "step1", false);
    long n1 = store.reserveVersion("demo");
    assertEquals(1, n1);
    var v1 = store.prepare(s1, n1, 0);
    store.publish("demo", v1);
    assertEquals(Set.of("a", "b"), v1.manifest().keySet());
    // the trainer may overwrite its directory: the version has its own link or copy
    Files.delete(data.resolve("step1/model.safetensors"));
    assertTrue(Files.isRegularFile(v1.manifest().get("a")));
    writeDir("step2", "b");
    var v2 = store.prepare(store.stageDirectory("demo", "step2", true), store.reserveVersion("demo"), 0);
    store.publish("demo", v2);
    assertEquals(2, v2.number());
    assertEquals(v1.manifest().get("a"), v2.manifest().get("a"), "unchanged tensor keeps its file");
    assertTrue(v2.manifest().get("b").toString().contains("v2"));
    assertEquals(List.of("b"), v2.changed());
    writeDir("step3", "c");
    var v3 = store.prepare(store.stageDirectory("demo", "step3", false), store.reserveVersion("demo"), 0);
    assertEquals(Set.of("c"), v3.manifest().keySet(), "a full publish replaces everything");
    store.drop("demo", 3);
    assertEquals(2, store.latest("demo"));
    assertEquals(4, store.reserveVersion("demo"), "numbers are never reused");
  }

  @Test
  void badDirectorySourcesAreRefusedNamingThePath() throws Exception {
    PolicyStore store = new PolicyStore(data);
    var e1 = assertThrows(BadInputException.class, () -> store.stageDirectory("demo", "../etc", false));
    assertTrue(e1.getMessage().contains("source_path '../etc' is outside"), e1.getMessage());
    var e2 = assertThrows(BadInputException.class, () -> store.stageDirectory("demo", "/tmp", false));
    assertTrue(e2.getMessage().contains("source_path '/tmp' is outside"), e2.getMessage());
    var e3 = assertThrows(BadInputException.class, () -> store.stageDirectory("demo", "nope", false));
    assertTrue(e3.getMessage().contains("'nope' is not a directory"), e3.getMessage());
    Files.createDirectories(data.resolve("empty"));
    var e4 = assertThrows(BadInputException.class, () -> store.stageDirectory("demo", "empty", false));
    assertTrue(e4.getMessage().contains("holds no .safetensors"), e4.getMessage());
    writeDir("dup", "a");
    Files.copy(data.resolve("dup/model.safetensors"), data.resolve("dup/model-2.safetensors"));
    var e5 = assertThrows(BadInputException.class, () -> store.stageDirectory("demo", "dup", false));
    assertTrue(e5.getMessage().contains("tensor 'a' is in both"), e5.getMessage());
    Files.writeString(data.resolve("empty/x.safetensors"), "garbage");
    var e6 = assertThrows(BadInputException.class, () -> store.stageDirectory("demo", "empty", false));
    assertTrue(e6.getMessage().contains("empty/x.safetensors"), e6.getMessage());
    try (var s = Files.list(data.resolve("policies/demo"))) {
      assertEquals(0, s.count(), "refused sources leave no staging directories");
    }
  }

  private static TensorChunk chunk(String name, String dtype, List<Long> shape, long offset, byte[] data) {
    return TensorChunk.newBuilder().setName(name).setDtype(dtype).addAllShape(shape).setOffset(offset)
        .setData(ByteString.copyFrom(data)).build();
  }

  @Test
  void streamedTensorsBecomeSafetensorsFiles() throws Exception {
    PolicyStore store = new PolicyStore(data);
    var stream = store.stageStream("demo", true);
    byte[] w = DTypeCodec.encode(DType.F32, new float[] {1, 2, 3, 4, 5, 6});
    stream.accept(chunk("w", "F32", List.of(2L, 3L), 0, java.util.Arrays.copyOf(w, 10)));
    stream.accept(chunk("w", "F32", List.of(2L, 3L), 10, java.util.Arrays.copyOfRange(w, 10, 24)));
    byte[] h = DTypeCodec.encode(DType.BF16, new float[] {0.5f, -2f});
    stream.accept(chunk("h", "BF16", List.of(2L), 0, h));
    var v = store.prepare(stream.finish(), store.reserveVersion("demo"), 0);
    try (SafetensorsFile f = SafetensorsFile.open(v.manifest().get("w"))) {
      assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, DTypeCodec.toFloats(f.tensors().get("w")));
      assertArrayEquals(new long[] {2, 3}, f.tensors().get("w").shape());
    }
    try (SafetensorsFile f = SafetensorsFile.open(v.manifest().get("h"))) {
      assertArrayEquals(new float[] {0.5f, -2f}, DTypeCodec.toFloats(f.tensors().get("h")));
    }
  }

  @Test
  void badStreamsAreRefusedNamingTheTensor() {
    PolicyStore store = new PolicyStore(data);
    var s1 = store.stageStream("demo", false);
    s1.accept(chunk("w", "F32", List.of(2L), 0, new byte[4]));
    var e1 = assertThrows(BadInputException.class, () -> s1.accept(chunk("w", "F32", List.of(2L), 8, new byte[4])));
    assertTrue(e1.getMessage().contains("tensor 'w': chunk at offset 8 but 4 bytes"), e1.getMessage());
    var s2 = store.stageStream("demo", false);
    s2.accept(chunk("w", "F32", List.of(2L), 0, new byte[4]));
    var e2 = assertThrows(BadInputException.class, s2::finish);
    assertTrue(e2.getMessage().contains("tensor 'w': 4 bytes arrived but its dtype and shape need 8"), e2.getMessage());
    var s3 = store.stageStream("demo", false);
    var e3 = assertThrows(BadInputException.class, () -> s3.accept(chunk("q", "I8", List.of(2L), 0, new byte[2])));
    assertTrue(e3.getMessage().contains("tensor 'q' has dtype 'I8'"), e3.getMessage());
    var s4 = store.stageStream("demo", false);
    var e4 = assertThrows(BadInputException.class, () -> s4.accept(chunk("w", "F32", List.of(1L), 0, new byte[8])));
    assertTrue(e4.getMessage().contains("8 bytes sent but F32 [1] holds 4"), e4.getMessage());
    var e5 = assertThrows(BadInputException.class, () -> store.stageStream("demo", false).finish());
    assertTrue(e5.getMessage().contains("carried no tensors"), e5.getMessage());
  }
}
