package quasiroll.sweep;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.CouplingKind;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.sampler.VocabOrder;

/**
 * Reads a sweep spec (HOCON or JSON; JSON is HOCON) into a {@link SweepSpec}. Every key is
 * documented in deploy/demo/synthetic-sweep.conf and in docs/sweeps.md; unknown keys are refused so
 * that a typo cannot silently fall back to a default.
 */
public final class SweepSpecParser {
  private static final Set<String> TOP_KEYS =
      Set.of(
          "name",
          "seed",
          "models",
          "tasks",
          "samplers",
          "k",
          "temperatures",
          "replicates",
          "decode",
          "confidence-level",
          "derive-smaller-k",
          "baseline-multiple");
  private static final Set<String> DECODE_KEYS =
      Set.of(
          "max-new-tokens",
          "top-k",
          "top-p",
          "min-p",
          "vocab-order",
          "stop-strings",
          "stop-token-ids");
  private static final Set<String> TASK_KEYS = Set.of("name", "kind", "prompts");

  private SweepSpecParser() {}

  public static SweepSpec parse(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new BadInputException(
          "sweep spec '" + file + "' does not exist or is not a regular file");
    }
    try {
      return parse(ConfigFactory.parseFile(file.toFile()).resolve(), file.toString());
    } catch (ConfigException e) {
      throw new BadInputException(
          "sweep spec '" + file + "' is not valid HOCON/JSON: " + e.getMessage(), e);
    }
  }

  public static SweepSpec parseString(String text) {
    try {
      return parse(ConfigFactory.parseString(text).resolve(), "<string>");
    } catch (ConfigException e) {
      throw new BadInputException("sweep spec is not valid HOCON/JSON: " + e.getMessage(), e);
    }
  }

  static SweepSpec parse(Config c, String origin) {
    try {
      refuseUnknown(c, TOP_KEYS, "sweep spec " + origin);
      String name = c.hasPath("name") ? c.getString("name") : "sweep";
      long seed = c.hasPath("seed") ? c.getLong("seed") : 1L;
      List<String> models = nonEmpty(c.getStringList("models"), "models");
      List<TaskSpec> tasks = new ArrayList<>();
      for (Config t : c.getConfigList("tasks")) {
        tasks.add(task(t));
      }
      nonEmpty(tasks, "tasks");
      List<String> taskNames = tasks.stream().map(TaskSpec::name).toList();
      if (Set.copyOf(taskNames).size() != taskNames.size()) {
        throw new BadInputException(
            "task names " + taskNames + " repeat: each task needs its own name");
      }
      List<SamplerSpec> samplers = new ArrayList<>();
      for (ConfigValue v : c.getList("samplers")) {
        samplers.add(sampler(v));
      }
      nonEmpty(samplers, "samplers");
      List<String> labels = samplers.stream().map(SamplerLabel::of).toList();
      if (Set.copyOf(labels).size() != labels.size()) {
        throw new BadInputException("samplers " + labels + " repeat: list each sampler once");
      }
      List<Integer> ks = nonEmpty(c.getIntList("k"), "k");
      for (int i = 0; i < ks.size(); i++) {
        if (ks.get(i) < 1 || (i > 0 && ks.get(i) <= ks.get(i - 1))) {
          throw new BadInputException(
              "k " + ks + " is invalid: expected ascending distinct values >= 1");
        }
      }
      List<Double> temperatures =
          c.hasPath("temperatures") ? c.getDoubleList("temperatures") : List.of(1.0);
      for (double t : nonEmpty(temperatures, "temperatures")) {
        if (!(t > 0) || Double.isInfinite(t)) {
          throw new BadInputException(
              "temperature "
                  + t
                  + " is invalid in a sweep: expected a finite value > 0 "
                  + "(greedy decoding has nothing to couple)");
        }
      }
      int replicates = c.hasPath("replicates") ? c.getInt("replicates") : 1;
      if (replicates < 1) {
        throw new BadInputException("replicates " + replicates + " is invalid: expected >= 1");
      }
      DecodeParams decode =
          decode(c.hasPath("decode") ? c.getConfig("decode") : ConfigFactory.empty());
      double level = c.hasPath("confidence-level") ? c.getDouble("confidence-level") : 0.95;
      if (!(level > 0 && level < 1)) {
        throw new BadInputException(
            "confidence-level " + level + " is invalid: expected a value in (0, 1)");
      }
      boolean derive = !c.hasPath("derive-smaller-k") || c.getBoolean("derive-smaller-k");
      int baselineMultiple =
          c.hasPath("baseline-multiple")
              ? c.getInt("baseline-multiple")
              : SweepSpec.DEFAULT_BASELINE_MULTIPLE;
      if (baselineMultiple < 1
          || (long) baselineMultiple * ks.get(ks.size() - 1) > Integer.MAX_VALUE / 2) {
        throw new BadInputException(
            "baseline-multiple "
                + baselineMultiple
                + " is invalid: expected an integer >= 1 (1 = the iid baseline stops at the largest"
                + " k)");
      }
      return new SweepSpec(
          name,
          seed,
          models,
          tasks,
          samplers,
          ks,
          temperatures,
          replicates,
          decode,
          level,
          derive,
          baselineMultiple);
    } catch (ConfigException e) {
      throw new BadInputException("sweep spec " + origin + ": " + e.getMessage(), e);
    }
  }

  /**
   * SHA-256 over a canonical JSON form of the parsed spec (sorted keys, defaults filled in): equal
   * for equal sweeps however they are written, different for any change of the grid.
   */
  public static String fingerprint(SweepSpec spec) {
    try {
      byte[] json = canonicalJson(spec).getBytes(StandardCharsets.UTF_8);
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  public static String canonicalJson(SweepSpec spec) {
    Map<String, Object> m = new TreeMap<>();
    m.put("name", spec.name());
    m.put("seed", spec.seed());
    m.put("models", spec.models());
    List<Map<String, Object>> tasks = new ArrayList<>();
    for (TaskSpec t : spec.tasks()) {
      Map<String, Object> tm = new TreeMap<>(t.params());
      tm.put("name", t.name());
      tm.put("kind", t.kind());
      tm.put("prompts", t.prompts());
      tasks.add(tm);
    }
    m.put("tasks", tasks);
    m.put("samplers", spec.samplers().stream().map(SamplerLabel::of).toList());
    m.put("k", spec.ks());
    m.put("temperatures", spec.temperatures());
    m.put("replicates", spec.replicates());
    DecodeParams d = spec.decode();
    Map<String, Object> dm = new TreeMap<>();
    dm.put("max-new-tokens", d.maxNewTokens());
    dm.put("top-k", d.topK());
    dm.put("top-p", d.topP());
    dm.put("min-p", d.minP());
    dm.put("vocab-order", d.vocabOrder().shortName());
    dm.put("stop-strings", d.stopStrings());
    dm.put("stop-token-ids", d.stopTokenIds());
    m.put("decode", dm);
    m.put("confidence-level", spec.confidenceLevel());
    m.put("derive-smaller-k", spec.deriveSmallerK());
    m.put("baseline-multiple", spec.baselineMultiple());
    try {
      return new ObjectMapper()
          .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
          .writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise the sweep spec", e);
    }
  }

  private static TaskSpec task(Config t) {
    String name = t.getString("name");
    String kind = t.getString("kind");
    int prompts = t.getInt("prompts");
    if (prompts < 1) {
      throw new BadInputException(
          "task '" + name + "': prompts " + prompts + " is invalid: expected >= 1");
    }
    Map<String, Object> params = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigValue> e : t.root().entrySet()) {
      if (!TASK_KEYS.contains(e.getKey())) {
        params.put(e.getKey(), e.getValue().unwrapped());
      }
    }
    return new TaskSpec(name, kind, prompts, params);
  }

  private static SamplerSpec sampler(ConfigValue v) {
    if (v.valueType() == ConfigValueType.STRING) {
      return SamplerSpec.of((String) v.unwrapped());
    }
    if (v.valueType() != ConfigValueType.OBJECT) {
      throw new BadInputException(
          "sampler "
              + v.render()
              + " is invalid: expected a name (e.g. \"lattice\") or "
              + "{ kind = sobol, options { scramble = owen } }");
    }
    Config s = ((com.typesafe.config.ConfigObject) v).toConfig();
    refuseUnknown(s, Set.of("kind", "options"), "sampler " + v.render());
    Map<String, String> options = new TreeMap<>();
    if (s.hasPath("options")) {
      for (Map.Entry<String, ConfigValue> e : s.getObject("options").entrySet()) {
        options.put(e.getKey(), String.valueOf(e.getValue().unwrapped()));
      }
    }
    return new SamplerSpec(CouplingKind.parse(s.getString("kind")), options);
  }

  private static DecodeParams decode(Config d) {
    refuseUnknown(d, DECODE_KEYS, "decode");
    DecodeParams def = DecodeParams.DEFAULT;
    return new DecodeParams(
        def.temperature(),
        d.hasPath("top-k") ? d.getInt("top-k") : def.topK(),
        d.hasPath("top-p") ? d.getDouble("top-p") : def.topP(),
        d.hasPath("min-p") ? d.getDouble("min-p") : def.minP(),
        d.hasPath("vocab-order") ? VocabOrder.parse(d.getString("vocab-order")) : def.vocabOrder(),
        d.hasPath("max-new-tokens") ? d.getInt("max-new-tokens") : def.maxNewTokens(),
        d.hasPath("stop-strings") ? d.getStringList("stop-strings") : def.stopStrings(),
        d.hasPath("stop-token-ids") ? d.getIntList("stop-token-ids") : def.stopTokenIds());
  }

  private static void refuseUnknown(Config c, Set<String> known, String where) {
    for (String key : c.root().keySet()) {
      if (!known.contains(key)) {
        throw new BadInputException(
            where + ": key '" + key + "' is unknown: expected one of " + new TreeSet<>(known));
      }
    }
  }

  private static <T> List<T> nonEmpty(List<T> list, String key) {
    if (list.isEmpty()) {
      throw new BadInputException("'" + key + "' is empty: the sweep needs at least one");
    }
    return list;
  }
}
