package quasiroll.coordinator.http;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import quasiroll.common.error.BadInputException;

/**
 * The HTTP API's settings: {@code quasiroll.http.*} in reference.conf, plus the limits it shares
 * with the gRPC API ({@code quasiroll.limits.*}, {@code quasiroll.auth.token}).
 */
public record HttpApiSettings(
    boolean enabled,
    String bind,
    int port,
    String token,
    long maxRequestBytes,
    int maxInFlight,
    Duration requestTimeout,
    Duration streamKeepAlive,
    String defaultGroupSampler,
    Map<String, String> defaultGroupSamplerOptions,
    int defaultMaxTokens,
    int defaultChatMaxTokens,
    int maxN,
    int maxPrompts,
    int maxNewTokens,
    List<String> declaredModels,
    Map<String, java.nio.file.Path> chatTemplates,
    int coalesceMaxSamples,
    int coalesceMaxPrompts) {

  /**
   * @param coordinatorBind the coordinator's --bind, used when quasiroll.http.bind is empty
   */
  public static HttpApiSettings from(Config c, String coordinatorBind) {
    Map<String, String> opts = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigValue> e :
        c.getConfig("quasiroll.http.default-group-sampler-options").entrySet()) {
      opts.put(e.getKey(), String.valueOf(e.getValue().unwrapped()));
    }
    String bind = c.getString("quasiroll.http.bind");
    int port = c.getInt("quasiroll.http.port");
    if (port < 0 || port > 65535) {
      throw new BadInputException(
          "quasiroll.http.port " + port + " is invalid: expected 0..65535 (0 = any free port)");
    }
    int maxInFlight = c.getInt("quasiroll.http.max-in-flight");
    if (maxInFlight < 1) {
      throw new BadInputException(
          "quasiroll.http.max-in-flight " + maxInFlight + " is invalid: expected >= 1");
    }
    return new HttpApiSettings(
        c.getBoolean("quasiroll.http.enabled"),
        bind.isEmpty() ? coordinatorBind : bind,
        port,
        c.getString("quasiroll.auth.token"),
        c.getBytes("quasiroll.limits.max-request-bytes"),
        maxInFlight,
        c.getDuration("quasiroll.http.request-timeout"),
        keepAlive(c),
        c.getString("quasiroll.http.default-group-sampler"),
        Map.copyOf(opts),
        c.getInt("quasiroll.http.default-max-tokens"),
        c.getInt("quasiroll.http.default-chat-max-tokens"),
        c.getInt("quasiroll.limits.max-k"),
        c.getInt("quasiroll.limits.max-prompts"),
        c.getInt("quasiroll.limits.max-new-tokens"),
        List.copyOf(c.getStringList("quasiroll.http.models")),
        chatTemplates(c),
        nonNegative(c, "quasiroll.http.coalesce-max-samples"),
        Math.max(1, nonNegative(c, "quasiroll.http.coalesce-max-prompts")));
  }

  private static int nonNegative(Config c, String key) {
    int v = c.getInt(key);
    if (v < 0) {
      throw new BadInputException(key + " " + v + " is invalid: expected >= 0");
    }
    return v;
  }

  private static Duration keepAlive(Config c) {
    Duration d = c.getDuration("quasiroll.http.stream-keep-alive");
    if (d.isNegative() || d.isZero()) {
      throw new BadInputException(
          "quasiroll.http.stream-keep-alive " + d + " is invalid: expected a positive duration");
    }
    return d;
  }

  private static Map<String, java.nio.file.Path> chatTemplates(Config c) {
    Map<String, java.nio.file.Path> out = new LinkedHashMap<>();
    for (Config e : c.getConfigList("quasiroll.http.chat-templates")) {
      if (!e.hasPath("model") || !e.hasPath("file")) {
        throw new BadInputException(
            "quasiroll.http.chat-templates has an entry "
                + e.root().render()
                + ": expected {model = \"<model id>\", file = \"<path of a .jinja file>\"}");
      }
      java.nio.file.Path file = java.nio.file.Path.of(e.getString("file"));
      if (!java.nio.file.Files.isRegularFile(file)) {
        throw new BadInputException(
            "quasiroll.http.chat-templates: file '"
                + file
                + "' for model '"
                + e.getString("model")
                + "' is not a readable file");
      }
      out.put(e.getString("model"), file);
    }
    return Map.copyOf(out);
  }
}
