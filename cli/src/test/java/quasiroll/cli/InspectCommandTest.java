package quasiroll.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
  @TempDir Path tmp;

  private static String run(int expectedExit, String... args) {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true));
    try {
      assertEquals(expectedExit, Main.execute(args));
    } finally {
      System.setOut(old);
    }
    return buf.toString();
  }

  @Test
  void inspectsAFixtureInBothFormats() {
    Path gguf = tmp.resolve("m.gguf");
    run(0, "fixture", "--preset", "qwen2", "--dtype", "Q8_0", gguf.toString());
    String out =
        run(
            0,
            "inspect",
            gguf.toString(),
            "-k",
            "8",
            "--prompt-tokens",
            "10",
            "--max-new-tokens",
            "20");
    assertTrue(out.contains("architecture  qwen2"), out);
    assertTrue(out.contains("Q8_0"), out);
    assertTrue(out.contains("byte-level BPE"), out);
    // 2 (K,V) * 2 layers * 1 KV head * 16 dims * 4 bytes
    assertTrue(out.contains("256 B per token per sequence"), out);
    assertTrue(out.contains("fits"), out);
    Path hf = tmp.resolve("hf");
    run(0, "fixture", "--format", "hf", "--dtype", "BF16", hf.toString());
    assertTrue(run(0, "inspect", hf.toString()).contains("BF16"));
  }

  @Test
  void badInputExitsWithTwo() {
    run(2, "inspect", tmp.resolve("missing").toString());
    run(2, "fixture", "--format", "hf", "--dtype", "Q4_0", tmp.resolve("x").toString());
  }
}
