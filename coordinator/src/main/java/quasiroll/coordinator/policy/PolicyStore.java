package quasiroll.coordinator.policy;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;
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
 * <p>Versions are numbered per model from 1, monotonically, for the coordinator's lifetime; the
 * files stay until the coordinator's data directory is cleaned (no garbage collection).
 */
public final class PolicyStore {
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

  public PolicyStore(Path dataDir) {
    this.dataDir = dataDir.toAbsolutePath().normalize();
    this.root = this.dataDir.resolve("policies");
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
    long next = Math.max(latest(modelId), reserved.getOrDefault(modelId, 0L)) + 1;
    reserved.put(modelId, next);
    return next;
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

  /** Records a prepared version as committed: jobs may now use it. */
  public synchronized void publish(String modelId, Version v) {
    models.computeIfAbsent(modelId, m -> new TreeMap<>()).put(v.number(), v);
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
