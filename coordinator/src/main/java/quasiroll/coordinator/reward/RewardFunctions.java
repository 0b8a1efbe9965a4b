package quasiroll.coordinator.reward;

import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The verifiers on the class path, by name (see {@link RewardFunction}). */
public final class RewardFunctions {
  /** Prompt metadata key naming the verifier. */
  public static final String VERIFIER_KEY = "verifier";

  private static final Map<String, RewardFunction> BY_NAME = load();

  private RewardFunctions() {}

  private static Map<String, RewardFunction> load() {
    Map<String, RewardFunction> m = new TreeMap<>();
    for (RewardFunction f : ServiceLoader.load(RewardFunction.class)) {
      m.put(f.name(), f);
    }
    return Map.copyOf(m);
  }

  public static Optional<RewardFunction> lookup(String name) {
    return Optional.ofNullable(BY_NAME.get(name));
  }

  /** Known names, sorted (for error messages). */
  public static String names() {
    return BY_NAME.isEmpty() ? "(none installed)" : String.join(", ", new TreeMap<>(BY_NAME).keySet());
  }
}
