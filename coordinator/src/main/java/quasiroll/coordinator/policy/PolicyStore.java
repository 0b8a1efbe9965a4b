package quasiroll.coordinator.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import quasiroll.common.error.BadInputException;
import quasiroll.common.safetensors.SafetensorsHeader;
import quasiroll.coordinator.paths.DataPaths;
import quasiroll.v1.TensorChunk;

/**
 * The published policy versions of every model, as files the workers map: each version's new
 * tensors live in {@code <data-dir>/policies/<model>/v<N>/}, and its manifest maps every tensor
 * that differs from the start-up weights (version 0) to the file holding it, so a worker can build
 * any version from its start-up weights alone (a worker that joins late included).
 *
 * <p>Publishing is three-step: {@code stage*} (on the gRPC thread: checks the source and copies or
 * hard-links it into a private staging directory, so a trainer may overwrite its own directory
 * right after), {@link #prepare} (its number is reserved and its files moved to where they stay)
 * and, once every worker has loaded it, {@link #publish} (jobs see it) or {@link #drop}. A source
 * is checked here for what needs no model: the path stays inside the data directory, the files are
 * well-formed safetensors, no tensor is given twice, streamed chunks are complete and in order. The
 * workers check it against the model (names, shapes, dtypes, completeness).
 *
 * <p>Versions are numbered per model from 1, monotonically, also across coordinator restarts: a
 * committed version's manifest is written to {@code v<N>/manifest.json} when it is published (the
 * commit point), the last number handed out to {@code <model>/last-version} when it is reserved,
 * and a new store reads both back (versions prepared but never published, and staging directories,
 * are deleted then). {@link #collect} deletes the files of versions nothing needs any more.
 */
public final class PolicyStore {
  private static final Logger log = LoggerFactory.getLogger(PolicyStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern VERSION_DIR = Pattern.compile("v(\\d{1,18})");
  static final String MANIFEST = "manifest.json";
  static final String COUNTER = "last-version";

  /** A checked source waiting for the workers. */
  public record Staged(
      String modelId, Path dir, Map<String, Path> tensors, boolean partial, long bytes) {}

  /** A committed version. */
  public record Version(
      long number,
      Map<String, Path> manifest,
      List<String> changed,
      long bytes,
      long publishedMs) {}

  private final Path dataDir;
  private final Path root;
  private final Map<String, TreeMap<Long, Version>> models = new HashMap<>();
  private final Map<String, Long> reserved = new HashMap<>();

  /** Per model directory: the highest v<N> found at start-up (its number is never reused). */
  private final Map<String, Long> restoredFloor = new HashMap<>();

  /** The default of {@code quasiroll.coordinator.policy-keep-versions}. */
  public static final int DEFAULT_KEEP_RECENT = 3;

  private final int keepRecent;

  /** Opens the store of a data directory, reading back the versions committed before. */
  public PolicyStore(Path dataDir) {
    this(dataDir, DEFAULT_KEEP_RECENT);
  }

  /**
   * @param keepRecent how many of the newest versions {@link #collect(String, Collection)} keeps
   *     (quasiroll.coordinator.policy-keep-versions, at least 1)
   */
  public PolicyStore(Path dataDir, int keepRecent) {
    if (keepRecent < 1) {
      throw new BadInputException(
          "quasiroll.coordinator.policy-keep-versions "
              + keepRecent
              + " is invalid: expected at least 1 (the newest version is always kept)");
    }
    this.keepRecent = keepRecent;
    this.dataDir = dataDir.toAbsolutePath().normalize();
    this.root = this.dataDir.resolve("policies");
    restore();
  }

  /** {@code <data-dir>/policies}: every version's files lie under it. */
  public Path root() {
    return root;
  }

  /** {@link #collect(String, Collection, int)} with the configured number of recent versions. */
  public List<Long> collect(String modelId, Collection<Long> pinned) {
    return collect(modelId, pinned, keepRecent);
  }

  // ------------------------------------------------------------------ staging

  /** A directory of .safetensors files relative to the data directory. */
  public Staged stageDirectory(String modelId, String relative, boolean partial) {
    Path dir = DataPaths.inside(dataDir, relative, "source_path");
    if (!Files.isDirectory(dir)) {
      throw new BadInputException(
          "source_path '" + relative + "' is not a directory in the data directory " + dataDir);
    }
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.safetensors")) {
      ds.forEach(files::add);
    } catch (IOException e) {
      throw new BadInputException(
          "source_path '" + relative + "' cannot be listed: " + e.getMessage());
    }
    if (files.isEmpty()) {
      throw new BadInputException("source_path '" + relative + "' holds no .safetensors files");
    }
    files.sort(Comparator.naturalOrder());
    Path staging = newStaging(modelId);
    try {
      Map<String, Path> tensors = new LinkedHashMap<>();
      long bytes = 0;
      for (Path f : files) {
        Path copy = staging.resolve(f.getFileName().toString());
        linkOrCopy(f, copy);
        try {
          for (SafetensorsHeader.Entry t : SafetensorsHeader.read(copy).tensors().values()) {
            Path before = tensors.putIfAbsent(t.name(), copy);
            if (before != null) {
              throw new BadInputException(
                  "source_path '"
                      + relative
                      + "': tensor '"
                      + t.name()
                      + "' is in both "
                      + before.getFileName()
                      + " and "
                      + f.getFileName());
            }
            bytes += t.bytes();
          }
        } catch (BadInputException e) {
          throw new BadInputException(
              e.getMessage().replace(copy.toString(), dir.resolve(copy.getFileName()).toString()));
        }
      }
      return new Staged(modelId, staging, tensors, partial, bytes);
    } catch (RuntimeException e) {
      deleteTree(staging);
      throw e;
    }
  }

  /** Receives streamed tensors, one safetensors file per tensor. Not thread-safe. */
  public final class StreamStage {
    private final String modelId;
    private final boolean partial;
    private final Path dir;
    private final Map<String, Path> tensors = new LinkedHashMap<>();
    private String current;
    private long expected;
    private long written;
    private OutputStream out;
    private long bytes;

    private StreamStage(String modelId, boolean partial) {
      this.modelId = modelId;
      this.partial = partial;
      this.dir = newStaging(modelId);
    }

    public void accept(TensorChunk c) {
      try {
        if (!c.getName().equals(current)) {
          startTensor(c);
        } else if (c.getOffset() != written) {
          throw new BadInputException(
              "tensor '"
                  + c.getName()
                  + "': chunk at offset "
                  + c.getOffset()
                  + " but "
                  + written
                  + " bytes have arrived (chunks must come in order)");
        }
        if (written + c.getData().size() > expected) {
          throw new BadInputException(
              "tensor '"
                  + c.getName()
                  + "': "
                  + (written + c.getData().size())
                  + " bytes sent but "
                  + c.getDtype()
                  + " "
                  + c.getShapeList()
                  + " holds "
                  + expected);
        }
        c.getData().writeTo(out);
        written += c.getData().size();
        bytes += c.getData().size();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (RuntimeException e) {
        abort();
        throw e;
      }
    }

    private void startTensor(TensorChunk c) throws IOException {
      finishTensor();
      String name = c.getName();
      if (name.isEmpty() || tensors.containsKey(name)) {
        throw new BadInputException(
            name.isEmpty()
                ? "a tensor chunk has no name"
                : "tensor '"
                    + name
                    + "' is sent twice (or its chunks are interleaved with another tensor's)");
      }
      if (c.getOffset() != 0) {
        throw new BadInputException(
            "tensor '" + name + "': first chunk at offset " + c.getOffset() + ", expected 0");
      }
      Integer width = SafetensorsHeader.DTYPE_BYTES.get(c.getDtype());
      if (width == null) {
        throw new BadInputException(
            "tensor '"
                + name
                + "' has dtype '"
                + c.getDtype()
                + "': expected "
                + SafetensorsHeader.SUPPORTED_DTYPES);
      }
      long elements = 1;
      for (long d : c.getShapeList()) {
        if (d < 0) {
          throw new BadInputException(
              "tensor '" + name + "' has a negative dimension in shape " + c.getShapeList());
        }
        elements = Math.multiplyExact(elements, d);
      }
      expected = Math.multiplyExact(elements, (long) width);
      current = name;
      written = 0;
      Path file = dir.resolve(String.format("t%05d.safetensors", tensors.size()));
      tensors.put(name, file);
      out = Files.newOutputStream(file);
      out.write(SafetensorsHeader.single(name, c.getDtype(), c.getShapeList(), expected));
    }

    private void finishTensor() throws IOException {
      if (current != null) {
        out.close();
        out = null;
        if (written != expected) {
          throw new BadInputException(
              "tensor '"
                  + current
                  + "': "
                  + written
                  + " bytes arrived but its dtype and shape need "
                  + expected);
        }
        current = null;
      }
    }

    /** The stream ended: the staged source. */
    public Staged finish() {
      try {
        finishTensor();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (RuntimeException e) {
        abort();
        throw e;
      }
      if (tensors.isEmpty()) {
        abort();
        throw new BadInputException(
            "the publish stream for model '" + modelId + "' carried no tensors and no source_path");
      }
      return new Staged(modelId, dir, tensors, partial, bytes);
    }

    public void abort() {
      try {
        if (out != null) {
          out.close();
        }
      } catch (IOException ignored) {
        // being deleted
      }
      deleteTree(dir);
    }
  }

  public StreamStage stageStream(String modelId, boolean partial) {
    return new StreamStage(modelId, partial);
  }

  // ------------------------------------------------------------------ versions

  /** The number the next publish of this model gets (reserved: numbers are never reused). */
  public synchronized long reserveVersion(String modelId) {
    Path modelDir = root.resolve(sanitize(modelId));
    long next =
        Math.max(
                Math.max(latest(modelId), reserved.getOrDefault(modelId, 0L)),
                Math.max(readCounter(modelDir), restoredFloor.getOrDefault(sanitize(modelId), 0L)))
            + 1;
    reserved.put(modelId, next);
    try {
      Files.createDirectories(modelDir);
      writeAtomically(modelDir.resolve(COUNTER), Long.toString(next).getBytes());
    } catch (IOException e) {
      throw new UncheckedIOException("recording version " + next + " in " + modelDir, e);
    }
    return next;
  }

  private static long readCounter(Path modelDir) {
    Path f = modelDir.resolve(COUNTER);
    try {
      return Files.exists(f) ? Long.parseLong(Files.readString(f).trim()) : 0;
    } catch (IOException | NumberFormatException e) {
      throw new IllegalStateException(
          f + " is unreadable (" + e.getMessage() + "): version numbers could repeat", e);
    }
  }

  /** The manifest version {@code number} would have if {@code s} were committed now. */
  public synchronized Map<String, Path> manifestFor(Staged s) {
    Map<String, Path> m = new LinkedHashMap<>();
    if (s.partial()) {
      Version prev = latestVersion(s.modelId());
      if (prev != null) {
        m.putAll(prev.manifest());
      }
    }
    m.putAll(s.tensors());
    return m;
  }

  /**
   * Moves a staged source to its version directory v<N> and returns the version as the workers must
   * load it (its manifest points at files that will not move again). It is not yet visible to jobs:
   * {@link #publish} it once every worker has loaded it, or {@link #drop} it.
   */
  public synchronized Version prepare(Staged s, long number, long nowMs) {
    return commitFiles(s, number, nowMs);
  }

  private Version commitFiles(Staged s, long number, long nowMs) {
    Path dir = root.resolve(sanitize(s.modelId())).resolve("v" + number);
    try {
      Files.createDirectories(dir.getParent());
      Files.move(s.dir(), dir, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("moving " + s.dir() + " to " + dir, e);
    }
    Map<String, Path> manifest = new LinkedHashMap<>();
    for (Map.Entry<String, Path> e : manifestFor(s).entrySet()) {
      Path p = e.getValue();
      manifest.put(e.getKey(), p.startsWith(s.dir()) ? dir.resolve(s.dir().relativize(p)) : p);
    }
    return new Version(
        number, Map.copyOf(manifest), List.copyOf(s.tensors().keySet()), s.bytes(), nowMs);
  }

  /**
   * Records a prepared version as committed: jobs may now use it, and its manifest is written so
   * that it survives a restart.
   */
  public synchronized void publish(String modelId, Version v) {
    Path modelDir = root.resolve(sanitize(modelId));
    ObjectNode m = JSON.createObjectNode();
    m.put("model_id", modelId);
    m.put("version", v.number());
    m.put("bytes", v.bytes());
    m.put("published_ms", v.publishedMs());
    v.changed().forEach(m.putArray("changed")::add);
    ObjectNode tensors = m.putObject("tensors");
    v.manifest()
        .forEach(
            (name, file) ->
                tensors.put(
                    name,
                    file.startsWith(modelDir)
                        ? modelDir.relativize(file).toString()
                        : file.toString()));
    try {
      writeAtomically(
          modelDir.resolve("v" + v.number()).resolve(MANIFEST), JSON.writeValueAsBytes(m));
    } catch (IOException e) {
      throw new UncheckedIOException("writing the manifest of version " + v.number(), e);
    }
    models.computeIfAbsent(modelId, x -> new TreeMap<>()).put(v.number(), v);
  }

  /**
   * Deletes the committed versions of a model that nothing needs any more: every version but the
   * newest {@code keepRecent} (at least the newest), those in {@code pinned} (versions running or
   * queued jobs use) and those whose files a kept version's manifest still names (a partial publish
   * reuses its predecessors' files). Workers map the files they serve; deleting a file they still
   * map is safe (the mapping keeps its pages), and a worker never loads a version the coordinator
   * does not keep.
   *
   * @return the versions deleted, ascending
   */
  public synchronized List<Long> collect(String modelId, Collection<Long> pinned, int keepRecent) {
    if (keepRecent < 1) {
      throw new IllegalArgumentException("keepRecent " + keepRecent + ": expected >= 1");
    }
    TreeMap<Long, Version> vs = models.get(modelId);
    if (vs == null || vs.size() <= keepRecent) {
      return List.of();
    }
    Set<Long> keep = new HashSet<>(pinned);
    vs.descendingKeySet().stream().limit(keepRecent).forEach(keep::add);
    Path modelDir = root.resolve(sanitize(modelId));
    Set<Path> needed = new HashSet<>();
    for (long n : keep) {
      Version v = vs.get(n);
      if (v != null) {
        v.manifest().values().forEach(f -> needed.add(f.getParent()));
      }
    }
    List<Long> deleted = new ArrayList<>();
    for (Long n : List.copyOf(vs.keySet())) {
      Path dir = modelDir.resolve("v" + n);
      if (!keep.contains(n) && !needed.contains(dir)) {
        vs.remove(n);
        // the manifest first: a crash half-way leaves an uncommitted directory, deleted on restore
        try {
          Files.deleteIfExists(dir.resolve(MANIFEST));
        } catch (IOException e) {
          log.warn("cannot delete {}: {}", dir.resolve(MANIFEST), e.toString());
        }
        deleteTree(dir);
        deleted.add(n);
      }
    }
    return deleted;
  }

  /** Removes a prepared version's files (the workers refused it). */
  public synchronized void drop(String modelId, long number) {
    deleteTree(root.resolve(sanitize(modelId)).resolve("v" + number));
  }

  public synchronized void discard(Staged s) {
    deleteTree(s.dir());
  }

  /** The newest committed version; 0 (the start-up weights) when none was published. */
  public synchronized long latest(String modelId) {
    TreeMap<Long, Version> vs = models.get(modelId);
    return vs == null || vs.isEmpty() ? 0 : vs.lastKey();
  }

  public synchronized Version latestVersion(String modelId) {
    TreeMap<Long, Version> vs = models.get(modelId);
    return vs == null || vs.isEmpty() ? null : vs.lastEntry().getValue();
  }

  public synchronized Version version(String modelId, long number) {
    TreeMap<Long, Version> vs = models.get(modelId);
    return vs == null ? null : vs.get(number);
  }

  /** Every model with a published version, with its newest. */
  public synchronized Map<String, Version> latestByModel() {
    Map<String, Version> out = new TreeMap<>();
    models.forEach(
        (m, vs) -> {
          if (!vs.isEmpty()) {
            out.put(m, vs.lastEntry().getValue());
          }
        });
    return out;
  }

  // ------------------------------------------------------------------ restart

  private void restore() {
    if (!Files.isDirectory(root)) {
      return;
    }
    try (DirectoryStream<Path> modelDirs = Files.newDirectoryStream(root, Files::isDirectory)) {
      for (Path modelDir : modelDirs) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(modelDir, Files::isDirectory)) {
          for (Path d : ds) {
            String name = d.getFileName().toString();
            Matcher vm = VERSION_DIR.matcher(name);
            if (name.startsWith("staging-")) {
              deleteTree(d);
            } else if (vm.matches()) {
              long n = Long.parseLong(vm.group(1));
              restoredFloor.merge(modelDir.getFileName().toString(), n, Math::max);
              restoreVersion(modelDir, d, n);
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading the published policies in " + root, e);
    }
    models.forEach(
        (model, vs) ->
            log.info(
                "policy versions of '{}' restored from {}: {} (newest {})",
                model,
                root,
                vs.keySet(),
                vs.lastKey()));
  }

  private void restoreVersion(Path modelDir, Path dir, long number) throws IOException {
    Path mf = dir.resolve(MANIFEST);
    if (!Files.exists(mf)) {
      log.info("deleting {}: prepared but never published (the coordinator stopped)", dir);
      deleteTree(dir);
      return;
    }
    JsonNode m;
    try {
      m = JSON.readTree(mf.toFile());
    } catch (IOException e) {
      log.error("ignoring policy version in {}: unreadable manifest ({})", dir, e.toString());
      return;
    }
    String model = m.path("model_id").asText("");
    if (model.isEmpty() || m.path("version").asLong(-1) != number) {
      log.error(
          "ignoring policy version in {}: its manifest names no model or another version", dir);
      return;
    }
    Map<String, Path> manifest = new LinkedHashMap<>();
    for (var it = m.path("tensors").fields(); it.hasNext(); ) {
      var e = it.next();
      Path file = modelDir.resolve(e.getValue().asText()).normalize();
      if (!Files.isRegularFile(file)) {
        log.error(
            "ignoring policy version {} of '{}': tensor '{}' is in {}, which is missing",
            number,
            model,
            e.getKey(),
            file);
        return;
      }
      manifest.put(e.getKey(), file);
    }
    List<String> changed = new ArrayList<>();
    m.path("changed").forEach(c -> changed.add(c.asText()));
    models
        .computeIfAbsent(model, x -> new TreeMap<>())
        .put(
            number,
            new Version(
                number,
                Map.copyOf(manifest),
                List.copyOf(changed),
                m.path("bytes").asLong(),
                m.path("published_ms").asLong()));
  }

  private static void writeAtomically(Path file, byte[] content) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (var ch =
        java.nio.channels.FileChannel.open(
            tmp,
            java.nio.file.StandardOpenOption.CREATE,
            java.nio.file.StandardOpenOption.TRUNCATE_EXISTING,
            java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(content));
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  // ------------------------------------------------------------------ files

  private Path newStaging(String modelId) {
    Path dir = root.resolve(sanitize(modelId)).resolve("staging-" + UUID.randomUUID());
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("creating " + dir, e);
    }
    return dir;
  }

  /** A model id as one directory name (ids may be paths or carry query strings). */
  static String sanitize(String modelId) {
    String s = modelId.replaceAll("[^A-Za-z0-9._-]", "_");
    if (s.startsWith(".")) {
      s = "_" + s;
    }
    return s.length() > 100
        ? s.substring(0, 80) + "-" + Integer.toHexString(modelId.hashCode())
        : s;
  }

  private static void linkOrCopy(Path from, Path to) {
    try {
      Files.createLink(to, from.toRealPath());
    } catch (IOException | UnsupportedOperationException e) {
      try {
        Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
      } catch (IOException e2) {
        throw new BadInputException("cannot read " + from + ": " + e2.getMessage());
      }
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException ignored) {
                  // best effort
                }
              });
    } catch (IOException ignored) {
      // best effort
    }
  }
}
