package quasiroll.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code quasiroll sample} with a text prompt decodes exactly the token ids the model's tokenizer
 * configuration prescribes: BOS first for a Llama 3 style tokenizer, none for a Qwen2 style one.
 * The expected samples come from the decoder given explicit ids; the samples of the other choice
 * differ, so the test tells the two apart.
 */
class SamplePromptBosTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "llama3 style = {0}")
  @ValueSource(booleans = {true, false})
  void textPromptIsEncodedAsTheTokenizerConfigurationSays(boolean llama) throws Exception {
    Path model = PromptBos.fixture(tmp, llama);
    Path out = tmp.resolve("out.jsonl");
    assertEquals(
        0,
        Main.execute(
            "sample",
            "--model",
            model.toString(),
            "--device",
            "cpu",
            "-k",
            Integer.toString(PromptBos.K),
            "--sampler",
            "lattice",
            "--seed",
            Long.toString(PromptBos.SEED),
            "--prompt",
            PromptBos.TEXT,
            "--max-new-tokens",
            Integer.toString(PromptBos.MAX_NEW),
            "--out",
            out.toString()));
    ObjectMapper json = new ObjectMapper();
    List<String> got = new ArrayList<>();
    for (String line : Files.readAllLines(out)) {
      JsonNode n = json.readTree(line);
      List<Integer> tokens = new ArrayList<>();
      n.get("tokens").forEach(t -> tokens.add(t.asInt()));
      List<Float> raw = new ArrayList<>();
      n.get("raw_logprobs").forEach(t -> raw.add((float) t.asDouble()));
      got.add(PromptBos.content(tokens, raw));
    }
    int[] expected = PromptBos.ids(model, llama);
    assertEquals(
        PromptBos.contents(PromptBos.samplesOfIds(model, expected)),
        got,
        "samples of the text prompt vs the samples of ids " + java.util.Arrays.toString(expected));
    int[] other = PromptBos.ids(model, !llama);
    assertNotEquals(
        PromptBos.contents(PromptBos.samplesOfIds(model, other)),
        got,
        "the fixture must tell a prompt with BOS from one without");
  }
}
