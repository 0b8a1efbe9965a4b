package quasiroll.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleCommandTest {
  private static final String MODEL = "--model=synthetic:markov?vocab=20&seed=4&eos=0.1";

  @Test
  void writesOneJsonLinePerSampleReproducibly(@TempDir Path dir) throws Exception {
    Path prompts = dir.resolve("p.jsonl");
    Files.writeString(
        prompts, "{\"id\":\"a\",\"prompt\":\"t0\"}\n\n{\"id\":\"b\",\"prompt\":\"t3 t4\"}\n");
    Path out1 = dir.resolve("o1.jsonl");
    Path out2 = dir.resolve("o2.jsonl");
    assertEquals(
        0,
        Main.execute(
            "sample",
            MODEL,
            "-k",
            "5",
            "--sampler",
            "stratified",
            "--prompts",
            prompts.toString(),
            "--max-new-tokens",
            "6",
            "--out",
            out1.toString()));
    assertEquals(
        0,
        Main.execute(
            "sample",
            MODEL,
            "-k",
            "5",
            "--sampler",
            "stratified",
            "--prompts",
            prompts.toString(),
            "--max-new-tokens",
            "6",
            "--threads",
            "2",
            "--out",
            out2.toString()));
    List<String> lines = Files.readAllLines(out1);
    assertEquals(10, lines.size());
    assertEquals(lines, Files.readAllLines(out2));
    JsonNode first = new ObjectMapper().readTree(lines.get(0));
    assertEquals("a", first.get("prompt_id").asText());
    assertEquals(0, first.get("index").asInt());
    assertEquals("stratified", first.get("sampler").asText());
    assertEquals(first.get("tokens").size(), first.get("logprobs").size());
    assertEquals(first.get("tokens").size(), first.get("raw_logprobs").size());
    assertTrue(List.of("eos", "length").contains(first.get("finish_reason").asText()));
  }

  @Test
  void badInputExitsWithTwo(@TempDir Path dir) throws Exception {
    assertEquals(2, Main.execute("sample", MODEL, "-k", "0", "--prompt", "t0"));
    assertEquals(
        2, Main.execute("sample", MODEL, "-k", "2", "--sampler", "nope", "--prompt", "t0"));
    assertEquals(
        2, Main.execute("sample", MODEL, "-k", "2", "--vocab-order", "random", "--prompt", "t0"));
    assertEquals(2, Main.execute("sample", "--model=gpt5", "-k", "2", "--prompt", "t0"));
    assertEquals(2, Main.execute("sample", MODEL, "-k", "2"));
    Path bad = dir.resolve("bad.jsonl");
    Files.writeString(bad, "{\"id\":\"a\"}\n");
    assertEquals(2, Main.execute("sample", MODEL, "-k", "2", "--prompts", bad.toString()));
    assertEquals(2, Main.execute("inspect", "synthetic:markov?vocab=2000"));
    assertEquals(0, Main.execute("inspect", "synthetic:markov?vocab=3", "--state", "bos"));
    assertEquals(2, Main.execute("inspect", "synthetic:markov?vocab=3", "--state", "7"));
  }
}
