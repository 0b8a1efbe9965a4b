package quasiroll.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.CouplingKind;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.sampler.VocabOrder;
import quasiroll.v1.FinishReason;
import quasiroll.v1.SampleResult;
import quasiroll.worker.engine.ResolvedShard;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;
import quasiroll.worker.runtime.ModelHandle;

/** {@code quasiroll sample}: k coupled samples per prompt on this machine, as JSONL. */
@Command(
    name = "sample",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Draws k coupled samples per prompt from a model on this machine and writes one JSON object"
          + " per sample (prompt_id, index, sampler, tokens, text, raw_logprobs, logprobs,"
          + " finish_reason, noise_note).",
      "raw_logprobs are under the model (temperature 1, untruncated); logprobs under the processed"
          + " distribution actually sampled from. finish_reason is eos, stop_string, length or"
          + " context.",
      "Every sample is an exact draw from the processed distribution, and its noise is a pure"
          + " function of (seed, prompt id, index, position): a run is reproducible to the bit.",
      "Example: quasiroll sample --model 'synthetic:markov?vocab=64&seed=1' -k 8 --sampler lattice"
          + " --prompt t0",
      ""
    })
public final class SampleCommand implements Callable<Integer> {
  @Option(
      names = "--model",
      required = true,
      paramLabel = "SPEC",
      description =
          "Model to load, e.g. 'synthetic:markov?vocab=64&seed=1' (see `quasiroll inspect`).")
  String model;

  @Option(
      names = "--device",
      defaultValue = "cpu",
      paramLabel = "DEV",
      description = "Where the model runs: cpu, cuda:N or auto (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(
      names = "-k",
      required = true,
      paramLabel = "K",
      description = "Samples per prompt, 1..quasiroll.limits.max-k.")
  int k;

  @Option(
      names = "--sampler",
      defaultValue = "iid",
      paramLabel = "S",
      description =
          "CouplingKind of the k samples: iid, antithetic, lattice, stratified, sobol, rank1, lhs"
              + " (default: ${DEFAULT-VALUE}).")
  String sampler;

  @Option(
      names = "--sampler-option",
      paramLabel = "KEY=VALUE",
      description = "A sampler option, repeatable (e.g. scramble=owen for sobol).")
  Map<String, String> samplerOptions = new LinkedHashMap<>();

  @ArgGroup(exclusive = true, multiplicity = "1")
  PromptSource prompts;

  static final class PromptSource {
    @Option(
        names = "--prompt",
        paramLabel = "TEXT",
        description = "One prompt (its id is 'prompt').")
    String text;

    @Option(
        names = "--prompts",
        paramLabel = "FILE.jsonl",
        description = "Prompts, one JSON object per line with string fields 'id' and 'prompt'.")
    Path file;
  }

  @Option(
      names = "--seed",
      defaultValue = "0",
      paramLabel = "X",
      description = "Job seed, an unsigned 64-bit integer (default: ${DEFAULT-VALUE}).")
  String seed;

  @Option(
      names = "--temperature",
      defaultValue = "1.0",
      description = "Softmax temperature >= 0; 0 = greedy (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Option(
      names = "--top-k",
      defaultValue = "0",
      description = "Keep the K most probable tokens; 0 = off (default: ${DEFAULT-VALUE}).")
  int topK;

  @Option(
      names = "--top-p",
      defaultValue = "1.0",
      description = "Nucleus mass in (0, 1]; 1 = off (default: ${DEFAULT-VALUE}).")
  double topP;

  @Option(
      names = "--min-p",
      defaultValue = "0.0",
      description =
          "Drop tokens below min-p * max probability, [0, 1); 0 = off (default: ${DEFAULT-VALUE}).")
  double minP;

  @Option(
      names = "--max-new-tokens",
      defaultValue = "256",
      description = "Most tokens generated per sample (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(
      names = "--stop",
      arity = "1..*",
      paramLabel = "STR",
      description = "Stop strings: a sample ends once one appears; its text is cut before it.")
  List<String> stop = new ArrayList<>();

  @Option(
      names = "--vocab-order",
      defaultValue = "id",
      paramLabel = "ORDER",
      description =
          "Vocabulary order along the CDF: id, prob or permuted (default: ${DEFAULT-VALUE}).")
  String vocabOrder;

  @Option(
      names = "--out",
      paramLabel = "FILE.jsonl",
      description = "Write here instead of standard output.")
  Path out;

  @Option(
      names = "--threads",
      defaultValue = "1",
      paramLabel = "N",
      description =
          "Threads selecting tokens in parallel (results do not depend on it; default:"
              + " ${DEFAULT-VALUE}).")
  int threads;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Integer call() throws IOException {
    Config config = QuasirollConfig.load(null);
    int maxK = config.getInt("quasiroll.limits.max-k");
    if (k < 1 || k > maxK) {
      throw new BadInputException(
          "-k " + k + " is invalid: expected 1.." + maxK + " (quasiroll.limits.max-k)");
    }
    long jobSeed;
    try {
      jobSeed = Long.parseUnsignedLong(seed);
    } catch (NumberFormatException e) {
      throw new BadInputException(
          "--seed '" + seed + "' is invalid: expected an unsigned 64-bit integer");
    }
    SamplerSpec spec = new SamplerSpec(CouplingKind.parse(sampler), samplerOptions);
    DecodeParams params =
        new DecodeParams(
            temperature,
            topK,
            topP,
            minP,
            VocabOrder.parse(vocabOrder),
            maxNewTokens,
            stop,
            List.of());
    Map<String, String> promptTexts = readPrompts();
    // Validate the sampler before loading the model, so a typo fails fast.
    CouplingNoiseFactory.INSTANCE.open(spec, 0, 0, k);
    ModelHandle loaded = BackendLoader.load(model, device, WorkerSettings.from(config));
    int[] all = java.util.stream.IntStream.range(0, k).toArray();
    try (Writer w = CliOutput.writer(out);
        ShardDecoder decoder =
            new ShardDecoder(
                loaded.backend(), loaded.tokenizer(), CouplingNoiseFactory.INSTANCE, threads)) {
      for (Map.Entry<String, String> p : promptTexts.entrySet()) {
        List<SampleResult> results = new ArrayList<>();
        decoder.run(
            new ResolvedShard(
                "local", p.getKey(), p.getValue(), new int[0], k, all, spec, params, jobSeed),
            results::add,
            () -> false);
        results.sort(Comparator.comparingInt(SampleResult::getIndex));
        for (SampleResult r : results) {
          w.write(JSON.writeValueAsString(toJson(r)));
          w.write('\n');
        }
        w.flush();
      }
    } finally {
      loaded.backend().close();
    }
    return Main.EXIT_OK;
  }

  private Map<String, String> readPrompts() throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    if (prompts.text != null) {
      out.put("prompt", prompts.text);
      return out;
    }
    if (!Files.isRegularFile(prompts.file)) {
      throw new BadInputException(
          "--prompts file '" + prompts.file + "' does not exist or is not a file");
    }
    List<String> lines = Files.readAllLines(prompts.file, StandardCharsets.UTF_8);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).trim();
      if (line.isEmpty()) {
        continue;
      }
      String where = prompts.file + " line " + (i + 1);
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new BadInputException(where + " is not valid JSON: " + e.getOriginalMessage());
      }
      if (node == null || !node.path("id").isTextual() || !node.path("prompt").isTextual()) {
        throw new BadInputException(where + " needs string fields \"id\" and \"prompt\"");
      }
      String id = node.get("id").asText();
      if (!seen.add(id)) {
        throw new BadInputException(where + ": prompt id '" + id + "' appears twice");
      }
      out.put(id, node.get("prompt").asText());
    }
    if (out.isEmpty()) {
      throw new BadInputException("--prompts file '" + prompts.file + "' has no prompts");
    }
    return out;
  }

  static Map<String, Object> toJson(SampleResult r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("prompt_id", r.getPromptId());
    m.put("index", r.getIndex());
    m.put("sampler", r.getNoiseKey().getSampler());
    m.put("tokens", r.getTokenIdsList());
    m.put("text", r.getText());
    m.put("raw_logprobs", r.getRawLogprobsList());
    m.put("logprobs", r.getProcessedLogprobsList());
    m.put("finish_reason", finishName(r.getFinishReason()));
    m.put("noise_note", r.getNoiseNote());
    return m;
  }

  static String finishName(FinishReason f) {
    switch (f) {
      case FINISH_REASON_EOS:
        return "eos";
      case FINISH_REASON_STOP_STRING:
        return "stop_string";
      case FINISH_REASON_LENGTH:
        return "length";
      case FINISH_REASON_CONTEXT:
        return "context";
      default:
        return "unspecified";
    }
  }
}
