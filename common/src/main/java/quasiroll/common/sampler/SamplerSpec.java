package quasiroll.common.sampler;

import java.util.Map;
import java.util.TreeMap;

/**
 * A coupling and its options (e.g. {@code scramble=owen} for sobol). Options are validated by
 * {@link NoiseFactory}; unknown keys are refused with the accepted list.
 */
public record SamplerSpec(CouplingKind coupling, Map<String, String> options) {
  public SamplerSpec {
    options = Map.copyOf(options == null ? Map.of() : new TreeMap<>(options));
  }

  public static SamplerSpec of(String name) {
    return new SamplerSpec(CouplingKind.parse(name), Map.of());
  }

  public String option(String key, String defaultValue) {
    return options.getOrDefault(key, defaultValue);
  }
}
