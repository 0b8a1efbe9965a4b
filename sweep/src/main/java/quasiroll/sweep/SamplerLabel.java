package quasiroll.sweep;

import java.util.Map;
import java.util.stream.Collectors;
import quasiroll.common.sampler.SamplerSpec;

/**
 * The name a sampler has in reports and file names: its kind, then options, e.g.
 * "sobol(scramble=owen)".
 */
public final class SamplerLabel {
  private SamplerLabel() {}

  public static String of(SamplerSpec s) {
    String kind = s.coupling().shortName();
    if (s.options().isEmpty()) {
      return kind;
    }
    return kind
        + s.options().entrySet().stream()
            .sorted(Map.Entry.comparingByKey())
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining(",", "(", ")"));
  }
}
