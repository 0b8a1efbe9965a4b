package quasiroll.common.task;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import quasiroll.common.error.BadInputException;

/**
 * Typed reads of string key/value pairs (prompt metadata or generator parameters) whose errors name
 * the owner, the key, the bad value and what is accepted.
 */
public final class TaskParams {
  private final String owner;
  private final Map<String, String> values;

  /**
   * @param owner what the pairs configure, for messages, e.g. "countdown metadata"
   */
  public TaskParams(String owner, Map<String, String> values) {
    this.owner = owner;
    this.values = Map.copyOf(values);
  }

  public Map<String, String> values() {
    return values;
  }

  /** Fails on any key outside {@code accepted}, so that a typo is not silently ignored. */
  public TaskParams allowOnly(Set<String> accepted) {
    for (String key : values.keySet()) {
      if (!accepted.contains(key)) {
        throw new BadInputException(
            owner + ": unknown key '" + key + "'; accepted keys: " + new TreeSet<>(accepted));
      }
    }
    return this;
  }

  public String string(String key) {
    String v = values.get(key);
    if (v == null) {
      throw new BadInputException(owner + ": missing required key '" + key + "'");
    }
    return v;
  }

  public String string(String key, String fallback) {
    return values.getOrDefault(key, fallback);
  }

  public int integer(String key, int min, int max) {
    return parseInt(key, string(key), min, max);
  }

  public int integer(String key, int fallback, int min, int max) {
    String v = values.get(key);
    return v == null ? fallback : parseInt(key, v, min, max);
  }

  /** One of {@code accepted}, or {@code fallback} when the key is absent. */
  public String choice(String key, String fallback, Set<String> accepted) {
    String v = values.getOrDefault(key, fallback);
    if (!accepted.contains(v)) {
      throw new BadInputException(
          owner
              + ": "
              + key
              + "='"
              + v
              + "' is not accepted; use one of "
              + new TreeSet<>(accepted));
    }
    return v;
  }

  private int parseInt(String key, String v, int min, int max) {
    int parsed;
    try {
      parsed = Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new BadInputException(
          owner + ": " + key + "='" + v + "' is not an integer; expected " + min + ".." + max);
    }
    if (parsed < min || parsed > max) {
      throw new BadInputException(
          owner + ": " + key + "=" + parsed + " is out of range; expected " + min + ".." + max);
    }
    return parsed;
  }
}
