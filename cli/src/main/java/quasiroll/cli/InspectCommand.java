package quasiroll.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import quasiroll.common.config.QuasirollConfig;
import quasiroll.common.error.BadInputException;
import quasiroll.common.synthetic.MarkovModel;
import quasiroll.worker.load.ModelFiles;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.ModelInspection;

/**
 * {@code quasiroll inspect SPEC}: what a model is. One handler per spec kind (a switch on {@link
 * #kindOf}): synthetic specs as JSON, real weights (HF directory, .gguf) as a report with the
 * memory a k-sample job needs.
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Prints what a model spec describes.",
      "HF directory or .gguf file: architecture, parameter count, dtypes, context length,"
          + " tokenizer,",
      "KV-cache bytes per token, and the memory a job of -k samples x (--prompt-tokens +",
      "--max-new-tokens) needs against quasiroll.worker.memory-budget-bytes.",
      "Example: quasiroll inspect models/demo -k 64 --prompt-tokens 256 --max-new-tokens 512",
      "synthetic:markov?... : the canonical spec, vocabulary, context length and the EXACT"
          + " transition",
      "probabilities of every state (\"bos\" and each token 1..V-1), i.e. the distribution samples"
          + " must follow.",
      "Example: quasiroll inspect 'synthetic:markov?vocab=4&seed=1&eos=0.2'",
    })
public final class InspectCommand implements Callable<Integer> {
  /** Largest vocabulary whose full V x V table is printed; larger ones need --state. */
  static final int MAX_FULL_TABLE = 1024;

  @Parameters(
      index = "0",
      paramLabel = "SPEC",
      description =
          "Model spec: 'synthetic:markov?vocab=16&seed=3', a HF model directory, or a .gguf file.")
  String spec;

  @Option(
      names = {"-k", "--samples"},
      defaultValue = "16",
      description = "HF/GGUF: samples per prompt of the job to size (default: ${DEFAULT-VALUE}).")
  int k;

  @Option(
      names = "--prompt-tokens",
      defaultValue = "512",
      description =
          "HF/GGUF: prompt length in tokens of the job to size (default: ${DEFAULT-VALUE}).")
  int promptTokens;

  @Option(
      names = "--max-new-tokens",
      defaultValue = "512",
      description =
          "HF/GGUF: new tokens per sample of the job to size (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "A HOCON file overriding reference.conf (for the memory budget).")
  Path config;

  @Option(
      names = "--state",
      paramLabel = "S",
      description =
          "Only this state's transition row: 'bos' or a token id 1..V-1 (needed above "
              + MAX_FULL_TABLE
              + " tokens).")
  String state;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> json;
    switch (kindOf(spec)) {
      case "synthetic":
        json = inspectSynthetic(MarkovModel.parse(spec));
        break;
      case "weights":
        inspectWeights(Path.of(spec));
        return Main.EXIT_OK;
      default:
        throw new BadInputException(
            "cannot inspect '"
                + spec
                + "': expected "
                + MarkovModel.PREFIX
                + "?vocab=V&seed=S&eos=P&sharpness=A&ctx=N, or "
                + LoadedModel.SUPPORTED_FORMATS);
    }
    System.out.println(
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json));
    return Main.EXIT_OK;
  }

  static String kindOf(String spec) {
    if (spec.startsWith("synthetic:")) {
      return "synthetic";
    }
    if (!spec.contains(":") || Path.of(spec).isAbsolute()) {
      return "weights"; // a path; LoadedModel.open says what is wrong with it
    }
    return "unknown";
  }

  private void inspectWeights(Path path) {
    if (k < 1 || promptTokens < 1 || maxNewTokens < 0) {
      throw new BadInputException(
          "-k "
              + k
              + ", --prompt-tokens "
              + promptTokens
              + ", --max-new-tokens "
              + maxNewTokens
              + ": k and prompt tokens must be >= 1, new tokens >= 0");
    }
    long budget = QuasirollConfig.load(config).getBytes("quasiroll.worker.memory-budget-bytes");
    try (LoadedModel m = ModelFiles.open(path)) {
      ModelInspection.report(m, k, promptTokens, maxNewTokens, budget).forEach(System.out::println);
    }
  }

  private Map<String, Object> inspectSynthetic(MarkovModel m) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("model", m.spec());
    json.put("architecture", "synthetic-markov");
    json.put("vocab_size", m.vocabSize());
    json.put("context_length", m.contextLength());
    json.put("eos_token_ids", List.of(m.eosToken()));
    Map<String, Object> rows = new LinkedHashMap<>();
    if (state != null) {
      int s = parseState(m, state);
      rows.put(state, m.transition(s));
    } else {
      if (m.vocabSize() > MAX_FULL_TABLE) {
        throw new BadInputException(
            "vocab="
                + m.vocabSize()
                + " is too large to print every state (limit "
                + MAX_FULL_TABLE
                + "): pass --state bos or --state <token id>");
      }
      rows.put("bos", m.transition(m.bosState()));
      for (int s = 1; s < m.vocabSize(); s++) {
        rows.put(Integer.toString(s), m.transition(s));
      }
    }
    json.put("transitions", rows);
    return json;
  }

  private static int parseState(MarkovModel m, String s) {
    if (s.equals("bos")) {
      return m.bosState();
    }
    try {
      int t = Integer.parseInt(s);
      if (t >= 1 && t < m.vocabSize()) {
        return t;
      }
    } catch (NumberFormatException e) {
      // fall through to the message
    }
    throw new BadInputException(
        "--state '" + s + "' is invalid: expected bos or a token id 1.." + (m.vocabSize() - 1));
  }
}
