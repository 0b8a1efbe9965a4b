package quasiroll.worker.policy;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import quasiroll.common.error.BadInputException;
import quasiroll.v1.PolicyFileChunk;

/**
 * Where a worker reads a policy version's files: the paths the coordinator sent (its data
 * directory, shared with the worker) or, when the worker cannot read them or is told to always
 * fetch ({@code quasiroll.worker.policy-fetch}), local copies fetched from the coordinator's data
 * plane into this worker's cache directory.
 *
 * <p>A fetched file is written to a temporary file, its size and SHA-256 checked against what the
 * coordinator sent, and only then renamed to its cache name; a file that fails a check is deleted
 * and the load fails naming the file and the check. A cached file is shared by every version whose
 * manifest names it (a tensor unchanged since an earlier publish keeps its file) and deleted when
 * the last of them is {@linkplain #release released} (the worker closed the version).
 *
 * <p>Thread-safe: the loader thread calls {@link #localize}, decode threads may call {@link
 * #release} (a version closes when its last shard ends). Fetching runs outside the lock.
 */
public final class PolicyFiles {
  private static final Logger log = LoggerFactory.getLogger(PolicyFiles.class);

  public static final String MODE_KEY = "quasiroll.worker.policy-fetch";
  public static final String CACHE_KEY = "quasiroll.worker.policy-cache-dir";

  /** When to fetch a version's files instead of reading the coordinator's paths. */
  public enum Mode {
    /** Fetch the files this worker cannot read at the coordinator's path. */
    AUTO,
    /** Fetch every file (the coordinator's data directory is never read). */
    ALWAYS,
    /** Read the coordinator's paths only (a shared filesystem). */
    NEVER;

    public static Mode parse(String s) {
      return switch (s.strip().toLowerCase(Locale.ROOT)) {
        case "auto" -> AUTO;
        case "always" -> ALWAYS;
        case "never" -> NEVER;
        default ->
            throw new BadInputException(
                MODE_KEY + " is '" + s + "': expected one of auto, always, never");
      };
    }
  }

  /** Streams one file of the coordinator's data directory (the data plane's FetchPolicyFile). */
  @FunctionalInterface
  public interface Fetcher {
    Chunks fetch(String path);
  }

  /** A file's chunks in order; closing it before the end cancels the call. */
  public interface Chunks extends Iterator<PolicyFileChunk>, AutoCloseable {
    @Override
    void close();
  }

  private final Mode mode;
  private final Path dir;

  /** Coordinator path -> the versions whose manifests use its cached copy. */
  private final Map<String, Set<Long>> users = new HashMap<>();

  /** Coordinator path -> its cached copy. */
  private final Map<String, Path> cached = new HashMap<>();

  /**
   * @param dir this worker's own cache directory (created on the first fetch; files in it are owned
   *     by this object)
   */
  public PolicyFiles(Mode mode, Path dir) {
    this.mode = mode;
    this.dir = dir.toAbsolutePath().normalize();
  }

  /**
   * From the worker's configuration: the mode, and a cache directory of this process under {@code
   * quasiroll.worker.policy-cache-dir} (empty = {@code <quasiroll.data-dir>/policy-cache}). Cache
   * directories of worker processes that are no longer running are deleted.
   */
  public static PolicyFiles fromConfig(Config config) {
    Mode mode = Mode.parse(config.getString(MODE_KEY));
    String base = config.getString(CACHE_KEY).strip();
    Path root =
        base.isEmpty()
            ? Path.of(config.getString("quasiroll.data-dir")).resolve("policy-cache")
            : Path.of(base);
    deleteStale(root);
    Path own = root.resolve("worker-" + ProcessHandle.current().pid());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(own), "policy-cache-cleanup"));
    return new PolicyFiles(mode, own);
  }

  private static void deleteStale(Path root) {
    if (!Files.isDirectory(root)) {
      return;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "worker-*")) {
      for (Path d : ds) {
        try {
          long pid = Long.parseLong(d.getFileName().toString().substring("worker-".length()));
          if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).isEmpty()) {
            deleteTree(d);
          }
        } catch (NumberFormatException e) {
          // not ours
        }
      }
    } catch (IOException e) {
      log.warn("cleaning the policy cache {}: {}", root, e.toString());
    }
  }

  public Mode mode() {
    return mode;
  }

  public Path dir() {
    return dir;
  }

  /**
   * The manifest of {@code version} with every file this worker must fetch replaced by its cached
   * copy (fetched now unless cached); the copies stay until {@link #release}{@code (version)}.
   *
   * @throws PolicyFetchException naming the file when a fetch fails or a check refuses it; the
   *     files already fetched for this version are released again
   */
  public Map<String, Path> localize(long version, Map<String, Path> manifest, Fetcher fetcher) {
    if (mode == Mode.NEVER) {
      return manifest;
    }
    Map<Path, Path> local = new HashMap<>();
    try {
      for (Path remote : new HashSet<>(manifest.values())) {
        if (mode == Mode.AUTO && Files.isReadable(remote)) {
          local.put(remote, remote);
          continue;
        }
        String key = remote.toString();
        Path copy;
        synchronized (this) {
          copy = cached.get(key);
          if (copy != null) {
            users.get(key).add(version);
          }
        }
        if (copy == null) {
          Path fetched = fetch(key, fetcher);
          synchronized (this) {
            cached.put(key, fetched);
            users.computeIfAbsent(key, k -> new HashSet<>()).add(version);
          }
          copy = fetched;
        }
        local.put(remote, copy);
      }
    } catch (RuntimeException e) {
      release(version);
      throw e;
    }
    Map<String, Path> out = new LinkedHashMap<>();
    manifest.forEach((name, p) -> out.put(name, local.get(p)));
    return out;
  }

  /** The version no longer needs its fetched files: those no other version uses are deleted. */
  public synchronized void release(long version) {
    for (var it = users.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (e.getValue().remove(version) && e.getValue().isEmpty()) {
        it.remove();
        Path copy = cached.remove(e.getKey());
        try {
          Files.deleteIfExists(copy);
          log.debug("deleted fetched policy file {} ({})", copy, e.getKey());
        } catch (IOException ex) {
          log.warn("deleting fetched policy file {}: {}", copy, ex.toString());
        }
      }
    }
  }

  /** Files held now (coordinator path -> cached copy). */
  public synchronized Map<String, Path> cached() {
    return Map.copyOf(cached);
  }

  private Path fetch(String remote, Fetcher fetcher) {
    long start = System.nanoTime();
    String name = Path.of(remote).getFileName().toString();
    Path target =
        dir.resolve(hex(sha256(remote.getBytes(StandardCharsets.UTF_8))).substring(0, 16))
            .resolve(name);
    Path tmp = null;
    try {
      Files.createDirectories(target.getParent());
      tmp = Files.createTempFile(target.getParent(), name + ".", ".part");
      MessageDigest sha = sha256();
      long size = -1;
      long written = 0;
      byte[] expected = null;
      try (OutputStream out = Files.newOutputStream(tmp)) {
        try (Chunks chunks = fetcher.fetch(remote)) {
          while (chunks.hasNext()) {
            PolicyFileChunk c = chunks.next();
            if (expected != null) {
              throw refused(remote, "a chunk arrived after the one carrying the SHA-256");
            }
            if (size < 0) {
              size = c.getSize();
              if (size < 0) {
                throw refused(remote, "the coordinator sent size " + size);
              }
            } else if (c.getSize() != size) {
              throw refused(remote, "the file's size changed from " + size + " to " + c.getSize());
            }
            if (c.getOffset() != written) {
              throw refused(
                  remote,
                  "chunk at offset " + c.getOffset() + " but " + written + " bytes have arrived");
            }
            if (written + c.getData().size() > size) {
              throw refused(
                  remote,
                  "chunks carry more than the file's "
                      + size
                      + " bytes ("
                      + (written + c.getData().size())
                      + ")");
            }
            for (var b : c.getData().asReadOnlyByteBufferList()) {
              sha.update(b.duplicate());
            }
            c.getData().writeTo(out);
            written += c.getData().size();
            if (!c.getSha256().isEmpty()) {
              expected = c.getSha256().toByteArray();
            }
          }
        } catch (io.grpc.StatusRuntimeException e) {
          throw new PolicyFetchException(
              "fetching policy file "
                  + remote
                  + " from the coordinator failed: "
                  + e.getStatus().getCode()
                  + (e.getStatus().getDescription() == null
                      ? ""
                      : " (" + e.getStatus().getDescription() + ")"));
        }
      }
      if (size < 0) {
        throw refused(remote, "the coordinator sent no chunk");
      }
      if (written != size) {
        throw refused(remote, written + " of " + size + " bytes arrived");
      }
      if (expected == null) {
        throw refused(remote, "no SHA-256 arrived with the last chunk");
      }
      byte[] got = sha.digest();
      if (!MessageDigest.isEqual(got, expected)) {
        throw refused(
            remote,
            "SHA-256 mismatch: the bytes received hash to "
                + hex(got)
                + " but the coordinator's file hashes to "
                + hex(expected));
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      tmp = null;
      log.info(
          "fetched policy file {} ({} bytes, SHA-256 checked) to {} in {} ms",
          remote,
          size,
          target,
          (System.nanoTime() - start) / 1_000_000);
      return target;
    } catch (IOException e) {
      throw new PolicyFetchException(
          "writing policy file " + remote + " to the cache " + target + " failed: " + e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException e) {
          log.warn("deleting {}: {}", tmp, e.toString());
        }
      }
    }
  }

  private static PolicyFetchException refused(String remote, String why) {
    return new PolicyFetchException(
        "policy file " + remote + " fetched from the coordinator is refused: " + why);
  }

  /** A version's file could not be fetched or failed a check; nothing of it is used. */
  public static final class PolicyFetchException extends RuntimeException {
    public PolicyFetchException(String message) {
      super(message);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] sha256(byte[] b) {
    return sha256().digest(b);
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  private static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              f -> {
                try {
                  Files.deleteIfExists(f);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException | UncheckedIOException e) {
      log.warn("deleting stale policy cache {}: {}", p, e.toString());
    }
  }
}
