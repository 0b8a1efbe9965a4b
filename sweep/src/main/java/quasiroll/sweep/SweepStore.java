package quasiroll.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.CoupledTokenSampler;

/**
 * A sweep's output directory, which is also its checkpoint.
 *
 * <ul>
 *   <li>{@code manifest.json}: the spec's fingerprint and canonical form. A directory whose
 *       manifest has another fingerprint is refused: continuing it would mix two sweeps.
 *   <li>{@code jobs/<hash>.jsonl}: one file per COMPLETED job (header line, then one line per
 *       prompt). A job's file is written under a temporary name and atomically renamed when the job
 *       is complete, so a file that exists is whole; an interrupted job leaves at most a {@code
 *       .tmp} file, which is ignored and overwritten when the job reruns.
 * </ul>
 *
 * Restarting a sweep therefore reruns only the jobs without a file.
 */
public final class SweepStore {
  public static final String MANIFEST = "manifest.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final Path jobsDir;

  private SweepStore(Path dir) {
    this.dir = dir;
    this.jobsDir = dir.resolve("jobs");
  }

  /** Opens (creating if needed) the output directory for {@code spec}. */
  public static SweepStore open(Path dir, SweepSpec spec) {
    SweepStore store = new SweepStore(dir);
    String fingerprint = SweepSpecParser.fingerprint(spec);
    Path manifest = dir.resolve(MANIFEST);
    try {
      if (Files.exists(dir) && !Files.isDirectory(dir)) {
        throw new BadInputException("output '" + dir + "' exists and is not a directory");
      }
      if (Files.exists(manifest)) {
        JsonNode m = JSON.readTree(manifest.toFile());
        String old = m.path("spec_fingerprint").asText("");
        if (!old.equals(fingerprint)) {
          throw new BadInputException(
              "output directory '"
                  + dir
                  + "' holds results of a different sweep spec (its "
                  + "manifest.json has fingerprint "
                  + abbreviate(old)
                  + ", this spec has "
                  + abbreviate(fingerprint)
                  + "; the stored spec is in "
                  + manifest
                  + "). "
                  + "Use a new --out directory, or delete '"
                  + dir
                  + "' to start over.");
        }
        // Manifests written before the revision was recorded hold revision-1 results.
        int revision = m.path("sampler_revision").asInt(1);
        if (revision != CoupledTokenSampler.DISTRIBUTION_REVISION) {
          throw new BadInputException(
              "output directory '"
                  + dir
                  + "' holds results sampled by an earlier definition of the processed "
                  + "distribution (sampler revision "
                  + revision
                  + "; this quasiroll draws from revision "
                  + CoupledTokenSampler.DISTRIBUTION_REVISION
                  + ", see docs/samplers.md): continuing would mix the two. Use a new --out "
                  + "directory, or delete '"
                  + dir
                  + "' to start over.");
        }
      } else {
        if (Files.isDirectory(dir)) {
          try (var entries = Files.list(dir)) {
            if (entries.findAny().isPresent()) {
              throw new BadInputException(
                  "output directory '"
                      + dir
                      + "' is not empty and has no "
                      + MANIFEST
                      + ": it is not a sweep directory; choose an empty or new --out directory");
            }
          }
        }
        Files.createDirectories(dir);
        ObjectNode m = JSON.createObjectNode();
        m.put("spec_fingerprint", fingerprint);
        m.put("sampler_revision", CoupledTokenSampler.DISTRIBUTION_REVISION);
        m.set("spec", JSON.readTree(SweepSpecParser.canonicalJson(spec)));
        writeAtomically(
            manifest, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n");
      }
      Files.createDirectories(store.jobsDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open sweep directory " + dir, e);
    }
    return store;
  }

  public Path dir() {
    return dir;
  }

  public boolean has(JobKey key) {
    return Files.isRegularFile(jobsDir.resolve(key.fileName()));
  }

  public void save(JobKey key, JobRecord record) {
    StringBuilder b = new StringBuilder();
    try {
      ObjectNode header = JSON.createObjectNode();
      header.put("job", record.jobId());
      header.put("seed", Long.toUnsignedString(record.seed()));
      header.put("k", record.k());
      header.put("wall_ms", record.wallMillis());
      header.put("prompts", record.prompts().size());
      b.append(JSON.writeValueAsString(header)).append('\n');
      for (JobRecord.PromptOutcome p : record.prompts()) {
        ObjectNode line = JSON.createObjectNode();
        line.put("prompt", p.promptId());
        ArrayNode r = line.putArray("rewards");
        for (double v : p.rewards()) {
          r.add(v);
        }
        ArrayNode a = line.putArray("answers");
        for (String s : p.answers()) {
          a.add(s);
        }
        line.put("tokens", p.tokens());
        b.append(JSON.writeValueAsString(line)).append('\n');
      }
      writeAtomically(jobsDir.resolve(key.fileName()), b.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot store job " + key.id() + " in " + jobsDir, e);
    }
  }

  public JobRecord load(JobKey key) {
    Path file = jobsDir.resolve(key.fileName());
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      JsonNode header = JSON.readTree(in.readLine());
      if (!header.path("job").asText().equals(key.id())) {
        throw new IllegalStateException(
            "stored job "
                + file
                + " is for '"
                + header.path("job").asText()
                + "', not '"
                + key.id()
                + "'");
      }
      int n = header.path("prompts").asInt();
      List<JobRecord.PromptOutcome> prompts = new ArrayList<>(n);
      for (int j = 0; j < n; j++) {
        JsonNode line = JSON.readTree(in.readLine());
        JsonNode r = line.path("rewards");
        JsonNode a = line.path("answers");
        double[] rewards = new double[r.size()];
        String[] answers = new String[a.size()];
        for (int i = 0; i < rewards.length; i++) {
          rewards[i] = r.get(i).asDouble();
          answers[i] = a.get(i).asText();
        }
        prompts.add(
            new JobRecord.PromptOutcome(
                line.path("prompt").asText(), rewards, answers, line.path("tokens").asLong()));
      }
      return new JobRecord(
          key.id(),
          Long.parseUnsignedLong(header.path("seed").asText()),
          header.path("k").asInt(),
          header.path("wall_ms").asLong(),
          prompts);
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException(
          "stored job " + file + " is unreadable or truncated; delete it to rerun the job", e);
    }
  }

  /** Writes a file so that readers see either nothing or all of it. */
  static void writeAtomically(Path file, String content) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      w.write(content);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static String abbreviate(String fingerprint) {
    return fingerprint.length() > 12 ? fingerprint.substring(0, 12) : fingerprint;
  }
}
