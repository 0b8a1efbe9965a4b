package quasiroll.worker.model.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.load.ModelFiles;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.DTypeCodec;
import quasiroll.worker.model.fixture.GgufFixtureWriter;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;

/** GGUF metadata round trips, and every kind of broken GGUF fails with a clear message. */
class GgufBadInputTest {
  @TempDir Path tmp;

  private static String fails(Path p) {
    BadInputException e = assertThrows(BadInputException.class, () -> ModelFiles.open(p).close());
    assertTrue(
        e.getMessage().contains(p.toString()), "message must name the file: " + e.getMessage());
    return e.getMessage();
  }

  @Test
  void metadataOfEveryWrittenTypeReadsBack() throws IOException {
    Path f = tmp.resolve("md.gguf");
    new GgufWriter()
        .putString("s", "héllo 🙂")
        .putU32("u", -1)
        .putI32("i", -5)
        .putF32("f", 0.1f)
        .putBool("b", true)
        .putStringArray("sa", List.of("a", "", "c"))
        .putI32Array("ia", new int[] {1, -2, 3})
        .putF32Array("fa", new float[] {1.5f})
        .addTensor(
            "t", new long[] {2, 32}, DType.Q8_0, DTypeCodec.encode(DType.Q8_0, new float[64]))
        .write(f);
    try (GgufFile g = GgufFile.open(f)) {
      GgufMetadata md = g.metadata();
      assertEquals("héllo 🙂", md.getString("s"));
      assertEquals(4294967295L, md.getLong("u"));
      assertEquals(-5, md.getInt("i"));
      assertEquals(0.1, md.getDouble("f"));
      assertTrue(md.getBool("b", false));
      assertEquals(List.of("a", "", "c"), md.getStringArray("sa"));
      assertTrue(Arrays.equals(new int[] {1, -2, 3}, md.getIntArray("ia")));
      assertEquals(List.of(1.5f), md.getArray("fa"));
      GgufTensorInfo t = g.tensors().get(0);
      assertTrue(Arrays.equals(new long[] {32, 2}, t.dims()), "ggml dims are innermost first");
      assertEquals(0, g.dataStart() % 32);
      assertTrue(Arrays.equals(new long[] {2, 32}, g.map(t, "t").shape()));
    }
  }

  private Path fixture() throws IOException {
    return GgufFixtureWriter.write(
        TinyModel.generate(TinyModelSpec.llamaGqa(3)), tmp.resolve("ok.gguf"), DType.Q8_0);
  }

  @Test
  void badMagic() throws IOException {
    Path p = tmp.resolve("bad.gguf");
    Files.write(p, "GGML not a gguf file".getBytes());
    assertTrue(fails(p).contains("bad magic"));
  }

  @Test
  void unsupportedVersion() throws IOException {
    byte[] b = Files.readAllBytes(fixture());
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 7);
    Path p = tmp.resolve("v7.gguf");
    Files.write(p, b);
    assertTrue(fails(p).contains("unsupported GGUF version 7"));
  }

  @Test
  void truncatedInsideTheMetadata() throws IOException {
    byte[] b = Files.readAllBytes(fixture());
    Path p = tmp.resolve("cut.gguf");
    Files.write(p, Arrays.copyOf(b, 300));
    assertTrue(fails(p).contains("truncated") || fails(p).contains("past the end"));
  }

  @Test
  void absurdLengthRunsPastTheEnd() throws IOException {
    byte[] b = Files.readAllBytes(fixture());
    // the first metadata key's length (u64 at offset 24)
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(24, Long.MAX_VALUE / 2);
    Path p = tmp.resolve("len.gguf");
    Files.write(p, b);
    assertTrue(fails(p).contains("runs past the end"));
  }

  @Test
  void tensorDataPastTheEnd() throws IOException {
    byte[] b = Files.readAllBytes(fixture());
    Path p = tmp.resolve("short.gguf");
    Files.write(p, Arrays.copyOf(b, b.length - 100));
    assertTrue(fails(p).contains("runs past the end of the file"));
  }

  @Test
  void unsupportedTensorTypeIsRefusedByName() throws IOException {
    // Q5_K (ggml type 13, 176 bytes per 256 values): not read by quasiroll (Q4_K now is).
    Path p = tmp.resolve("q5k.gguf");
    new GgufWriter()
        .putString("general.architecture", "llama")
        .addRawTensor("blk.0.attn_q.weight", new long[] {1, 256}, 13, new byte[176])
        .write(p);
    try (GgufFile g = GgufFile.open(p)) {
      BadInputException e =
          assertThrows(BadInputException.class, () -> g.map(g.tensors().get(0), "x"));
      assertTrue(
          e.getMessage().contains("Q5_K") && e.getMessage().contains("Q8_0"), e.getMessage());
    }
  }

  @Test
  void unsupportedArchitecture() throws IOException {
    Path p = tmp.resolve("gemma.gguf");
    new GgufWriter().putString("general.architecture", "gemma").write(p);
    String m = fails(p);
    assertTrue(m.contains("gemma") && m.contains("llama, qwen2"), m);
  }

  @Test
  void missingPreTokenizerIsRefused() throws IOException {
    Path p = tmp.resolve("nopre.gguf");
    new GgufWriter()
        .putString("general.architecture", "llama")
        .putString("tokenizer.ggml.model", "gpt2")
        .putStringArray("tokenizer.ggml.tokens", List.of("a"))
        .write(p);
    String m = fails(p);
    assertTrue(m.contains("tokenizer.ggml.pre '(missing)'") && m.contains("llama-bpe"), m);
  }

  @Test
  void sentencePieceTokenizerIsRefused() throws IOException {
    Path p = tmp.resolve("spm.gguf");
    new GgufWriter()
        .putString("general.architecture", "llama")
        .putString("tokenizer.ggml.model", "llama")
        .write(p);
    String m = fails(p);
    assertTrue(m.contains("tokenizer.ggml.model 'llama'") && m.contains("gpt2"), m);
  }
}
