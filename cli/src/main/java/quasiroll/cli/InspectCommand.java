package quasiroll.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import quasiroll.common.error.BadInputException;
import quasiroll.common.synthetic.MarkovModel;

/**
 * {@code quasiroll inspect SPEC}: what a model spec is, as JSON. One handler per spec kind
 * (a switch on {@link #kindOf}); weight loaders add their kinds (HF directory, .gguf) here.
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Prints what a model spec describes, as JSON.",
      "synthetic:markov?... : the canonical spec, vocabulary, context length and the EXACT transition",
      "probabilities of every state (\"bos\" and each token 1..V-1), i.e. the distribution samples must follow.",
      "Example: quasiroll inspect 'synthetic:markov?vocab=4&seed=1&eos=0.2'"
    })
public final class InspectCommand implements Callable<Integer> {
  /** Largest vocabulary whose full V x V table is printed; larger ones need --state. */
  static final int MAX_FULL_TABLE = 1024;

  @Parameters(index = "0", paramLabel = "SPEC", description = "Model spec, e.g. 'synthetic:markov?vocab=16&seed=3'.")
  String spec;

  @Option(names = "--state", paramLabel = "S",
      description = "Only this state's transition row: 'bos' or a token id 1..V-1 (needed above " + MAX_FULL_TABLE + " tokens).")
  String state;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> json;
    switch (kindOf(spec)) {
      case "synthetic":
        json = inspectSynthetic(MarkovModel.parse(spec));
        break;
      default:
        throw new BadInputException("cannot inspect '" + spec + "': expected "
            + MarkovModel.PREFIX + "?vocab=V&seed=S&eos=P&sharpness=A&ctx=N");
    }
    System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json));
    return Main.EXIT_OK;
  }

  static String kindOf(String spec) {
    if (spec.startsWith("synthetic:")) {
      return "synthetic";
    }
    return "unknown";
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
        throw new BadInputException("vocab=" + m.vocabSize() + " is too large to print every state (limit "
            + MAX_FULL_TABLE + "): pass --state bos or --state <token id>");
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
    throw new BadInputException("--state '" + s + "' is invalid: expected bos or a token id 1.." + (m.vocabSize() - 1));
  }
}
