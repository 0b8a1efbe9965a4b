package quasiroll.coordinator.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.error.BadInputException;
import quasiroll.common.safetensors.SafetensorsHeader;
import quasiroll.v1.TensorChunk;

class PolicyStoreTest {
  @TempDir Path data;

  /** A file of F32 tensors of shape [2], all {1, 2}. */
  private void writeDir(String rel, String... names) throws Exception {
    Path d = Files.createDirectories(data.resolve(rel));
    StringBuilder json = new StringBuilder("{");
    for (int i = 0; i < names.length; i++) {
      json.append(i == 0 ? "" : ",")
          .append('"')
          .append(names[i])
          .append("\":{\"dtype\":\"F32\",\"shape\":[2],")
          .append("\"data_offsets\":[")
          .append(8 * i)
          .append(',')
          .append(8 * i + 8)
          .append("]}");
    }
    byte[] h = json.append('}').toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ByteBuffer b =
        ByteBuffer.allocate(8 + h.length + 8 * names.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    for (String ignored : names) {
      b.putFloat(1).putFloat(2);
    }
    Files.write(d.resolve("model.safetensors"), b.array());
  }

  private static float[] floats(Path file, String name) throws Exception {
    SafetensorsHeader.Entry e = SafetensorsHeader.read(file).tensors().get(name);
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[(int) e.elements()];
    for (int i = 0; i < out.length; i++) {
      out[i] =
          e.dtype().equals("F32")
              ? b.getFloat((int) e.begin() + 4 * i)
              : Float.intBitsToFloat((b.getShort((int) e.begin() + 2 * i) & 0xffff) << 16);
    }
    return out;
  }

  private static byte[] f32(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    return b.array();
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
    var v2 =
        store.prepare(store.stageDirectory("demo", "step2", true), store.reserveVersion("demo"), 0);
    store.publish("demo", v2);
    assertEquals(2, v2.number());
    assertEquals(v1.manifest().get("a"), v2.manifest().get("a"), "unchanged tensor keeps its file");
    assertTrue(v2.manifest().get("b").toString().contains("v2"));
    assertEquals(List.of("b"), v2.changed());
    writeDir("step3", "c");
    var v3 =
        store.prepare(
            store.stageDirectory("demo", "step3", false), store.reserveVersion("demo"), 0);
    assertEquals(Set.of("c"), v3.manifest().keySet(), "a full publish replaces everything");
    store.drop("demo", 3);
    assertEquals(2, store.latest("demo"));
    assertEquals(4, store.reserveVersion("demo"), "numbers are never reused");
  }

  @Test
  void badDirectorySourcesAreRefusedNamingThePath() throws Exception {
    PolicyStore store = new PolicyStore(data);
    var e1 =
        assertThrows(BadInputException.class, () -> store.stageDirectory("demo", "../etc", false));
    assertTrue(e1.getMessage().contains("source_path '../etc' is outside"), e1.getMessage());
    var e2 =
        assertThrows(BadInputException.class, () -> store.stageDirectory("demo", "/tmp", false));
    assertTrue(e2.getMessage().contains("source_path '/tmp' is outside"), e2.getMessage());
    var e3 =
        assertThrows(BadInputException.class, () -> store.stageDirectory("demo", "nope", false));
    assertTrue(e3.getMessage().contains("'nope' is not a directory"), e3.getMessage());
    Files.createDirectories(data.resolve("empty"));
    var e4 =
        assertThrows(BadInputException.class, () -> store.stageDirectory("demo", "empty", false));
    assertTrue(e4.getMessage().contains("holds no .safetensors"), e4.getMessage());
    writeDir("dup", "a");
    Files.copy(data.resolve("dup/model.safetensors"), data.resolve("dup/model-2.safetensors"));
    var e5 =
        assertThrows(BadInputException.class, () -> store.stageDirectory("demo", "dup", false));
    assertTrue(e5.getMessage().contains("tensor 'a' is in both"), e5.getMessage());
    Files.writeString(data.resolve("empty/x.safetensors"), "garbage");
    var e6 =
        assertThrows(BadInputException.class, () -> store.stageDirectory("demo", "empty", false));
    assertTrue(e6.getMessage().contains("empty/x.safetensors"), e6.getMessage());
    try (var s = Files.list(data.resolve("policies/demo"))) {
      assertEquals(0, s.count(), "refused sources leave no staging directories");
    }
  }

  private static TensorChunk chunk(
      String name, String dtype, List<Long> shape, long offset, byte[] data) {
    return TensorChunk.newBuilder()
        .setName(name)
        .setDtype(dtype)
        .addAllShape(shape)
        .setOffset(offset)
        .setData(ByteString.copyFrom(data))
        .build();
  }

  @Test
  void streamedTensorsBecomeSafetensorsFiles() throws Exception {
    PolicyStore store = new PolicyStore(data);
    var stream = store.stageStream("demo", true);
    byte[] w = f32(1, 2, 3, 4, 5, 6);
    stream.accept(chunk("w", "F32", List.of(2L, 3L), 0, java.util.Arrays.copyOf(w, 10)));
    stream.accept(chunk("w", "F32", List.of(2L, 3L), 10, java.util.Arrays.copyOfRange(w, 10, 24)));
    byte[] h = new byte[] {0, 0x3f, 0, (byte) 0xc0}; // bf16 0.5, -2
    stream.accept(chunk("h", "BF16", List.of(2L), 0, h));
    var v = store.prepare(stream.finish(), store.reserveVersion("demo"), 0);
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, floats(v.manifest().get("w"), "w"));
    assertArrayEquals(
        new long[] {2, 3},
        SafetensorsHeader.read(v.manifest().get("w")).tensors().get("w").shape());
    assertArrayEquals(new float[] {0.5f, -2f}, floats(v.manifest().get("h"), "h"));
  }

  @Test
  void badStreamsAreRefusedNamingTheTensor() {
    PolicyStore store = new PolicyStore(data);
    var s1 = store.stageStream("demo", false);
    s1.accept(chunk("w", "F32", List.of(2L), 0, new byte[4]));
    var e1 =
        assertThrows(
            BadInputException.class,
            () -> s1.accept(chunk("w", "F32", List.of(2L), 8, new byte[4])));
    assertTrue(
        e1.getMessage().contains("tensor 'w': chunk at offset 8 but 4 bytes"), e1.getMessage());
    var s2 = store.stageStream("demo", false);
    s2.accept(chunk("w", "F32", List.of(2L), 0, new byte[4]));
    var e2 = assertThrows(BadInputException.class, s2::finish);
    assertTrue(
        e2.getMessage().contains("tensor 'w': 4 bytes arrived but its dtype and shape need 8"),
        e2.getMessage());
    var s3 = store.stageStream("demo", false);
    var e3 =
        assertThrows(
            BadInputException.class,
            () -> s3.accept(chunk("q", "I8", List.of(2L), 0, new byte[2])));
    assertTrue(e3.getMessage().contains("tensor 'q' has dtype 'I8'"), e3.getMessage());
    var s4 = store.stageStream("demo", false);
    var e4 =
        assertThrows(
            BadInputException.class,
            () -> s4.accept(chunk("w", "F32", List.of(1L), 0, new byte[8])));
    assertTrue(e4.getMessage().contains("8 bytes sent but F32 [1] holds 4"), e4.getMessage());
    var e5 = assertThrows(BadInputException.class, () -> store.stageStream("demo", false).finish());
    assertTrue(e5.getMessage().contains("carried no tensors"), e5.getMessage());
  }

  private PolicyStore.Version publishDir(
      PolicyStore store, String rel, boolean partial, String... names) throws Exception {
    writeDir(rel, names);
    var v =
        store.prepare(
            store.stageDirectory("models/demo?x=1", rel, partial),
            store.reserveVersion("models/demo?x=1"),
            1000 + names.length);
    store.publish("models/demo?x=1", v);
    return v;
  }

  @Test
  void versionsAndTheirNumbersSurviveARestart() throws Exception {
    String model = "models/demo?x=1";
    PolicyStore first = new PolicyStore(data);
    var v1 = publishDir(first, "s1", false, "a", "b");
    var v2 = publishDir(first, "s2", true, "b");
    // a version prepared but never published (the coordinator stops mid-publish) ...
    writeDir("s3", "a");
    var v3 =
        first.prepare(first.stageDirectory(model, "s3", false), first.reserveVersion(model), 0);
    // ... and a staging directory left behind
    first.stageStream(model, false);

    PolicyStore second = new PolicyStore(data);
    assertEquals(2, second.latest(model));
    assertEquals(v1, second.version(model, 1));
    assertEquals(v2, second.version(model, 2), "manifest, changed tensors, bytes, time restored");
    assertEquals(v1.manifest().get("a"), second.version(model, 2).manifest().get("a"));
    assertEquals(null, second.version(model, 3));
    assertTrue(
        !Files.exists(v3.manifest().get("a").getParent()), "the unpublished version is deleted");
    try (var s = Files.list(v1.manifest().get("a").getParent().getParent())) {
      assertTrue(
          s.noneMatch(p -> p.getFileName().toString().startsWith("staging-")),
          "staging directories are deleted");
    }
    assertEquals(4, second.reserveVersion(model), "3 was handed out before the restart");
    var v5 = publishDir(second, "s5", false, "c");
    assertEquals(5, v5.number());
    assertEquals(5, new PolicyStore(data).latest(model));
  }

  @Test
  void aVersionWhoseFilesAreGoneIsNotRestored() throws Exception {
    PolicyStore first = new PolicyStore(data);
    publishDir(first, "s1", false, "a");
    var v2 = publishDir(first, "s2", false, "a");
    Files.delete(v2.manifest().get("a"));
    PolicyStore second = new PolicyStore(data);
    assertEquals(1, second.latest("models/demo?x=1"));
    assertEquals(3, second.reserveVersion("models/demo?x=1"), "2 is never reused");
  }

  @Test
  void collectKeepsTheRecentThePinnedAndTheFilesTheyShare() throws Exception {
    String model = "models/demo?x=1";
    PolicyStore store = new PolicyStore(data);
    var bad = assertThrows(BadInputException.class, () -> new PolicyStore(data, 0));
    assertTrue(
        bad.getMessage().contains("quasiroll.coordinator.policy-keep-versions 0 is invalid"),
        bad.getMessage());
    var v1 = publishDir(store, "s1", false, "a", "b");
    var v2 = publishDir(store, "s2", false, "a", "b");
    var v3 = publishDir(store, "s3", true, "b"); // its 'a' is v2's file
    var v4 = publishDir(store, "s4", false, "a", "b");
    var v5 = publishDir(store, "s5", false, "a", "b");
    var s0 = store;
    assertThrows(IllegalArgumentException.class, () -> s0.collect(model, Set.of(), 0));
    assertEquals(List.of(), store.collect(model, Set.of(), 5), "5 versions, 5 kept");
    // keep the newest 1 and pinned 3: v3 names v2's file, so v2 stays too
    assertEquals(List.of(1L, 4L), new PolicyStore(data, 1).collect(model, Set.of(3L)));
    store = new PolicyStore(data, 1);
    assertEquals(null, store.version(model, 1));
    assertTrue(!Files.exists(v1.manifest().get("a").getParent()));
    assertTrue(!Files.exists(v4.manifest().get("a").getParent()));
    assertTrue(Files.exists(v2.manifest().get("a")));
    assertTrue(Files.exists(v3.manifest().get("b")));
    assertEquals(v5, store.version(model, 5));
    // unpinned: v3 goes, and with it the last reference to v2's files
    assertEquals(List.of(2L, 3L), store.collect(model, Set.of(), 1));
    assertEquals(5, store.latest(model));
    PolicyStore restarted = new PolicyStore(data);
    assertEquals(v5, restarted.version(model, 5));
    assertEquals(null, restarted.version(model, 3));
    assertEquals(6, restarted.reserveVersion(model), "collected numbers are not reused");
  }
}
