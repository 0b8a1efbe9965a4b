package quasiroll.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TasksCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void generateThenVerifyReferencesAndWrongAnswers() throws Exception {
    Path prompts = dir.resolve("p.jsonl");
    assertEquals(
        0,
        Main.execute(
            "tasks",
            "generate",
            "--task",
            "countdown",
            "--n",
            "20",
            "--seed",
            "3",
            "--param",
            "count=4",
            "--out",
            prompts.toString()));
    List<String> lines = Files.readAllLines(prompts);
    assertEquals(20, lines.size());
    List<String> completions = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      var o = JSON.readTree(lines.get(i));
      assertEquals(
          "4", String.valueOf(o.get("metadata").get("numbers").asText().split(",").length));
      // Half right (the reference), half wrong (the reference plus a number never given).
      String answer =
          i % 2 == 0 ? o.get("reference").asText() : "99999+" + o.get("reference").asText();
      completions.add(
          JSON.writeValueAsString(Map.of("id", o.get("id").asText(), "completion", answer)));
    }
    Path comps = dir.resolve("c.jsonl");
    Files.write(comps, completions);
    String out =
        captureStdout(
            () ->
                assertEquals(
                    0,
                    Main.execute(
                        "tasks",
                        "verify",
                        "--prompts",
                        prompts.toString(),
                        "--completions",
                        comps.toString())));
    assertTrue(out.contains("countdown\t20\t0.5000"), out);
  }

  @Test
  void generationIsReproducibleAcrossRuns() throws Exception {
    Path a = dir.resolve("a.jsonl");
    Path b = dir.resolve("b.jsonl");
    assertEquals(
        0, Main.execute("tasks", "generate", "--task", "maze", "--n", "5", "--out", a.toString()));
    assertEquals(
        0, Main.execute("tasks", "generate", "--task", "maze", "--n", "5", "--out", b.toString()));
    assertEquals(Files.readString(a), Files.readString(b));
  }

  @Test
  void badInputExitsWithCode2() {
    assertEquals(2, Main.execute("tasks", "generate", "--task", "chess", "--n", "1"));
    assertEquals(2, Main.execute("tasks", "generate", "--task", "maze", "--param", "rows"));
    assertEquals(
        2,
        Main.execute(
            "tasks",
            "verify",
            "--prompts",
            dir.resolve("none").toString(),
            "--completions",
            dir.resolve("none2").toString()));
  }

  private static String captureStdout(Runnable r) {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      r.run();
    } finally {
      System.setOut(old);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }
}
