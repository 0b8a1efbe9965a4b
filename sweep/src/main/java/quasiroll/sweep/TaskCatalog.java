package quasiroll.sweep;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import quasiroll.common.error.BadInputException;
import quasiroll.common.noise.KeyedHash;
import quasiroll.common.task.FinalAnswer;
import quasiroll.common.task.TaskPrompt;
import quasiroll.common.task.Verifier;
import quasiroll.common.task.registry.TaskGenerators;
import quasiroll.common.task.registry.Verifiers;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

/**
 * Builds {@link SweepTask}s from the spec's task entries by kind. Built-in kinds:
 *
 * <ul>
 *   <li>{@code token-target}: for token-level (e.g. synthetic) models. Params {@code vocab} (int),
 *       {@code targets} (token ids), {@code prompt-length} (default 4), {@code seed} (default 1).
 *       Prompt j is {@code prompt-length} token ids drawn from [0, vocab) by the keyed hash of
 *       (seed, j); its target is {@code targets[j mod |targets|]}. With {@code match = contains}
 *       (default) a sample passes (reward 1) when its generated tokens contain the target; with
 *       {@code match = first}, when its first generated token is the target (a one-token "answer":
 *       its success set is one interval of code space).
 *   <li>{@code generator}: the bundled task generators ({@link TaskGenerators}: countdown, maze,
 *       sudoku, arithmetic). Params {@code generator} (name), {@code seed} (default 1) and {@code
 *       params} (the generator's own string parameters). Samples are scored by the verifier the
 *       prompt's metadata names ({@link Verifiers#forPrompt}); a sample's answer, for counting
 *       distinct answers, is its {@link FinalAnswer}.
 *   <li>{@code regex}: params {@code texts} (prompt texts; the first {@code prompts} are used) and
 *       {@code pattern} (Java regex); a sample passes when the pattern is found in its generated
 *       text.
 * </ul>
 *
 * Further kinds are registered with {@link #register}.
 */
public final class TaskCatalog {
  private static final long DOMAIN_TASK_PROMPT = 0x5441534b50524f4dL; // "TASKPROM"

  private final Map<String, Function<TaskSpec, SweepTask>> kinds = new TreeMap<>();

  /** The catalog with the built-in kinds. */
  public static TaskCatalog builtIn() {
    TaskCatalog c = new TaskCatalog();
    c.register("token-target", TaskCatalog::tokenTarget);
    c.register("regex", TaskCatalog::regex);
    c.register("generator", TaskCatalog::generator);
    return c;
  }

  public TaskCatalog register(String kind, Function<TaskSpec, SweepTask> factory) {
    kinds.put(kind, factory);
    return this;
  }

  public SweepTask build(TaskSpec spec) {
    Function<TaskSpec, SweepTask> f = kinds.get(spec.kind());
    if (f == null) {
      throw new BadInputException(
          "task '"
              + spec.name()
              + "': kind '"
              + spec.kind()
              + "' is unknown: expected one of "
              + kinds.keySet());
    }
    return f.apply(spec);
  }

  static SweepTask tokenTarget(TaskSpec spec) {
    int vocab = intParam(spec, "vocab", null);
    int length = intParam(spec, "prompt-length", 4);
    long seed = intParam(spec, "seed", 1);
    List<Integer> targets = intListParam(spec, "targets");
    if (vocab < 1 || length < 1) {
      throw new BadInputException(
          "task '"
              + spec.name()
              + "': vocab "
              + vocab
              + " and prompt-length "
              + length
              + " must be >= 1");
    }
    for (int t : targets) {
      if (t < 0 || t >= vocab) {
        throw new BadInputException(
            "task '"
                + spec.name()
                + "': target token "
                + t
                + " is outside the vocabulary [0, "
                + vocab
                + ")");
      }
    }
    List<Prompt> prompts = new ArrayList<>();
    for (int j = 0; j < spec.prompts(); j++) {
      Prompt.Builder p = Prompt.newBuilder().setId(spec.name() + "-" + j);
      for (int i = 0; i < length; i++) {
        long h = KeyedHash.hash(seed, DOMAIN_TASK_PROMPT, j, i);
        p.addTokenIds((int) Long.remainderUnsigned(h, vocab));
      }
      p.putMetadata("target-token", Integer.toString(targets.get(j % targets.size())));
      prompts.add(p.build());
    }
    Object match = spec.params().getOrDefault("match", "contains");
    if (!"contains".equals(match) && !"first".equals(match)) {
      throw new BadInputException(
          "task '"
              + spec.name()
              + "': match '"
              + match
              + "' is unknown: expected contains or first");
    }
    boolean first = "first".equals(match);
    SampleScorer scorer =
        (prompt, sample) -> {
          int target = Integer.parseInt(prompt.getMetadataOrThrow("target-token"));
          boolean pass =
              first
                  ? sample.getTokenIdsCount() > 0 && sample.getTokenIds(0) == target
                  : sample.getTokenIdsList().contains(target);
          return pass ? 1.0 : 0.0;
        };
    return new SweepTask(spec.name(), prompts, scorer);
  }

  static SweepTask generator(TaskSpec spec) {
    Object name = spec.params().get("generator");
    if (!(name instanceof String generatorName)) {
      throw new BadInputException(
          "task '"
              + spec.name()
              + "' (kind generator) needs 'generator', one of "
              + String.join(", ", TaskGenerators.names()));
    }
    long seed = intParam(spec, "seed", 1);
    Map<String, String> params = new TreeMap<>();
    if (spec.params().get("params") instanceof Map<?, ?> m) {
      m.forEach((k, v) -> params.put(String.valueOf(k), String.valueOf(v)));
    }
    List<Prompt> prompts = new ArrayList<>();
    Map<String, Verifier> verifiers = new HashMap<>();
    for (TaskPrompt t :
        TaskGenerators.forName(generatorName, params).generate(seed, spec.prompts())) {
      prompts.add(
          Prompt.newBuilder().setId(t.id()).setText(t.text()).putAllMetadata(t.metadata()).build());
      verifiers.put(t.id(), Verifiers.forPrompt(t.id(), t.text(), t.metadata()));
    }
    SampleScorer scorer =
        new SampleScorer() {
          @Override
          public double reward(Prompt prompt, SampleResult sample) {
            return verifiers.get(prompt.getId()).reward(sample.getText());
          }

          @Override
          public String answer(Prompt prompt, SampleResult sample) {
            return FinalAnswer.of(sample.getText());
          }
        };
    return new SweepTask(spec.name(), prompts, scorer);
  }

  static SweepTask regex(TaskSpec spec) {
    Object texts = spec.params().get("texts");
    Object pattern = spec.params().get("pattern");
    if (!(texts instanceof List<?> list) || !(pattern instanceof String regex)) {
      throw new BadInputException(
          "task '"
              + spec.name()
              + "' (kind regex) needs 'texts' (a list of prompt texts) and 'pattern' (a regex)");
    }
    if (list.size() < spec.prompts()) {
      throw new BadInputException(
          "task '"
              + spec.name()
              + "': prompts "
              + spec.prompts()
              + " is more than the "
              + list.size()
              + " texts given");
    }
    Pattern p;
    try {
      p = Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new BadInputException(
          "task '"
              + spec.name()
              + "': pattern '"
              + regex
              + "' is not a valid regex: "
              + e.getDescription());
    }
    List<Prompt> prompts = new ArrayList<>();
    for (int j = 0; j < spec.prompts(); j++) {
      prompts.add(
          Prompt.newBuilder()
              .setId(spec.name() + "-" + j)
              .setText(String.valueOf(list.get(j)))
              .build());
    }
    return new SweepTask(
        spec.name(), prompts, (prompt, sample) -> p.matcher(sample.getText()).find() ? 1.0 : 0.0);
  }

  private static int intParam(TaskSpec spec, String key, Integer dflt) {
    Object v = spec.params().get(key);
    if (v == null) {
      if (dflt == null) {
        throw new BadInputException(
            "task '" + spec.name() + "' (kind " + spec.kind() + ") needs '" + key + "'");
      }
      return dflt;
    }
    if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
      return n.intValue();
    }
    throw new BadInputException(
        "task '" + spec.name() + "': " + key + " '" + v + "' is invalid: expected an integer");
  }

  private static List<Integer> intListParam(TaskSpec spec, String key) {
    Object v = spec.params().get(key);
    if (v instanceof List<?> list && !list.isEmpty()) {
      List<Integer> out = new ArrayList<>();
      for (Object o : list) {
        if (!(o instanceof Number n)) {
          throw new BadInputException(
              "task '" + spec.name() + "': " + key + " holds '" + o + "': expected integers");
        }
        out.add(n.intValue());
      }
      return out;
    }
    throw new BadInputException(
        "task '"
            + spec.name()
            + "' (kind "
            + spec.kind()
            + ") needs '"
            + key
            + "', a non-empty list of integers");
  }
}
