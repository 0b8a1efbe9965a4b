package quasiroll.sweep;

import java.util.Map;
import java.util.TreeMap;

/**
 * One task of a sweep as written in the spec: a name for the reports, a kind that {@link
 * TaskCatalog} knows how to build, how many prompts, and the kind's own parameters.
 */
public record TaskSpec(String name, String kind, int prompts, Map<String, Object> params) {
  public TaskSpec {
    params = new TreeMap<>(params);
  }
}
